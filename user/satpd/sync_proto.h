/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * anytun's sync / control protocol (satp.md §9), receive side: what an
 * anytun-controld or an anytun sync server (-S) pushes to its clients, so
 * satpd can be driven by an existing anytun control plane (-X / -M).
 *
 * SECURITY: the protocol has no authentication and no encryption. Master keys
 * and salts travel IN CLEARTEXT over the TCP connection, and anyone who can
 * connect to the server reads them; anyone who can reach the client's
 * connection can inject connections and routes. Use it on loopback or a
 * trusted management network only.
 *
 * Framing: 5 ASCII decimal digits (zero-padded body length), one space, the
 * body; frames follow each other with nothing between them (anytun-config
 * puts a newline after each one in its output file; anytun-controld sends
 * the frames without it).
 *
 * Body: a Boost.Serialization text_oarchive, tokens separated by one space.
 * A string is its length, one space, then exactly that many bytes. Each
 * class seen for the first time in an archive is preceded by its class
 * info, "<tracking> <version>" (text archives omit the optional class id);
 * anytun tracks nothing and versions nothing, so it is always "0 0"; a
 * class seen again in the same archive has no class info. Worked out from
 * Debian's anytun-config 0.3.8 (Boost 1.74) by varying every option and
 * confirmed with anytun-showtables:
 *
 *   22 serialization::archive   archive signature (a string)
 *   18                          archive (library) version: SATP_SYNC_ARCHIVE_MIN..MAX
 *   0 0                         class info: SyncCommand
 *   10 connection | 5 route     the command (a string)
 *
 * connection:
 *   0 0        class info: SyncConnectionCommand
 *   5          mux (uint16)
 *   0 0        class info: ConnectionParam
 *   0 0        class info: KeyDerivation
 *   1          role (enum: 0 left, 1 right)
 *   128        key length in bits (kd-prf: 0 null, 128, 192, 256)
 *   0 0        class info: SyncBuffer (before the salt only: same class after)
 *   14 160 ..  master salt: length (0 with kd null, else 14), bytes in decimal
 *   16 0 1 ..  master key: length (key length / 8), bytes in decimal
 *   0 0        class info: SeqWindow
 *   100        window size (uint32; the per-sender bitmaps are not synced)
 *   0          outgoing sequence number (uint32)
 *   10 10.200.0.2   remote host (a string: numeric IPv4 or IPv6 address,
 *                   "0.0.0.0" or "::" when the connection has no remote)
 *   4444       remote port (uint16)
 *
 * route:
 *   0 0        class info: SyncRouteCommand
 *   0 0        class info: NetworkPrefix
 *   16         prefix length
 *   0 0        class info: NetworkAddress (NetworkPrefix's base)
 *   0          address type (0 IPv4, 1 IPv6, 2 Ethernet)
 *   8 10.1.0.0 the address (a string)
 *   5          mux the prefix routes to (uint16)
 *
 * Parsing is strict: exact separators, decimal digits only, every number in
 * range, every length bounded, no bytes left over. Errors quote the token.
 */
#ifndef SATP_SYNC_PROTO_H
#define SATP_SYNC_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "satp.h"

/* anytun's default sync / controld TCP port. */
#define SATP_SYNC_DEFAULT_PORT "2323"

/* The frame header: 5 decimal digits and a space. */
#define SATP_SYNC_HDR_LEN 6
/*
 * Largest body accepted. anytun's largest is a connection with a 256-bit key
 * and an IPv6 remote with a scope, about 300 bytes; a larger length is a
 * corrupt stream, not a message to skip.
 */
#define SATP_SYNC_BODY_MAX  1024
#define SATP_SYNC_FRAME_MAX (SATP_SYNC_HDR_LEN + SATP_SYNC_BODY_MAX)

/*
 * Boost archive versions accepted: 18 is Boost 1.73-1.75 (Debian 11 and 12,
 * checked against the real anytun); 19 (Boost 1.76-1.83: Debian 13, Ubuntu
 * 24.04) and 20 (Boost 1.84 and later) changed nothing this body uses (no
 * pointers, collections or class ids). Older ones come from distributions
 * past their end of life and are refused rather than guessed at.
 */
#define SATP_SYNC_ARCHIVE_MIN 18
#define SATP_SYNC_ARCHIVE_MAX 20

/* Longest remote host string: an IPv6 address with a "%scope" suffix. */
#define SATP_SYNC_HOST_MAX 64

/* Error messages fit in this; longer ones are truncated. */
#define SATP_SYNC_ERR_LEN 192

enum satp_sync_type {
	SATP_SYNC_CONNECTION = 1,
	SATP_SYNC_ROUTE = 2,
};

/* One connection, as anytun keeps it in its connection list. */
struct satp_sync_conn {
	uint16_t mux;
	enum satp_role role;
	unsigned int kd_bits;		  /* kd-prf key length: 0, 128, 192 or 256 */
	uint8_t master_key[SATP_KEY_MAX]; /* kd_bits / 8 bytes */
	size_t master_key_len;
	uint8_t master_salt[SATP_SALT_LEN];   /* all zero with kd null */
	size_t master_salt_len;		      /* SATP_SALT_LEN, or 0 with kd null */
	uint32_t window;		      /* replay window size; 0 = off */
	uint32_t seq;			      /* the sender's next outgoing seq */
	char remote_host[SATP_SYNC_HOST_MAX]; /* as sent, NUL-terminated */
	uint16_t remote_port;
	/* remote_host parsed; has_remote false for 0.0.0.0 / :: (receivers ignore those) */
	bool has_remote;
	struct sockaddr_storage remote;
	socklen_t remote_len;
};

/* One route: inner destination prefix -> connection. */
struct satp_sync_route {
	int family;		 /* AF_INET or AF_INET6 */
	uint8_t prefix[16];	 /* network byte order; 4 bytes used for AF_INET */
	unsigned int prefix_len; /* 0..32 or 0..128 */
	uint16_t mux;
};

struct satp_sync_record {
	enum satp_sync_type type;
	unsigned int archive_version;
	union {
		struct satp_sync_conn conn;
		struct satp_sync_route route;
	};
};

/*
 * Parse one frame at the start of buf[0..len). Returns:
 *   0        a record; *used = the frame's size
 *   -EAGAIN  the frame is not complete yet (nothing else set)
 *   -EPROTO  the header is not "DDDDD " or the length is above
 *            SATP_SYNC_BODY_MAX: the stream cannot be resynchronised
 *   -EBADMSG the body is malformed (or empty); *used = the frame's size, so
 *            the caller may skip it and go on
 *   -EPROTONOSUPPORT an archive version outside ARCHIVE_MIN..MAX; *used set
 *   -EOPNOTSUPP an Ethernet route (tap routes are learned, not synced); *used set
 * Every error writes a message naming what was wrong and quoting it to err.
 * Key material may be left in *rec on error: wipe it (satp_sync_record_wipe).
 */
int satp_sync_parse_frame(const char *buf, size_t len, struct satp_sync_record *rec, size_t *used,
			  char *err, size_t errlen);

/* Parse a body alone (no frame header); the errors of satp_sync_parse_frame. */
int satp_sync_parse_body(const char *body, size_t len, struct satp_sync_record *rec, char *err,
			 size_t errlen);

/* Wipe a record (it may hold a master key). */
void satp_sync_record_wipe(struct satp_sync_record *rec);

/*
 * The connection's keys for satp_crypto_init: role, kd-prf bits, master key
 * and salt from the record; cipher, auth and tag length from base (they are
 * not synced: anytun takes them from its own command line). base->kd_bits is
 * ignored. Returns 0, or -EINVAL if base's cipher needs a kd-prf the record
 * turned off (kd null).
 */
int satp_sync_conn_keys(const struct satp_sync_conn *c, const struct satp_algos *base,
			struct satp_keys *k);

/*
 * One line as anytun-showtables prints it, without the newline:
 * "Client 5: 10.200.0.2:4444", "Client 6: [fd00::2]:4444", "Client 8: not registered"
 * (no remote), "Route: 10.1.0.0/16 -> 5".
 * Returns snprintf's result.
 */
int satp_sync_format(const struct satp_sync_record *rec, char *buf, size_t len);

/*
 * Split one -X / -M entry, "host", "host:port", "[v6addr]" or "[v6addr]:port"
 * (and ":port" when allow_no_host, for a bind address), into host and port;
 * the port defaults to SATP_SYNC_DEFAULT_PORT. -M takes a comma-separated
 * list: call this once per entry. Returns 0 or -EINVAL with a message quoting s.
 */
int satp_sync_split_hostport(const char *s, bool allow_no_host, char *host, size_t hostlen,
			     char *port, size_t portlen, char *err, size_t errlen);

#endif /* SATP_SYNC_PROTO_H */
