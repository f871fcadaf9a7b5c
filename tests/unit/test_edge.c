// SPDX-License-Identifier: GPL-2.0-only
/*
 * The anycast edges' window exchange (user/satpd/edge_proto.h, docs/anycast.md
 * §8): the message codec (round trip, every refusal with its reason, authentic
 * messages that do not parse), the exchange key's derivation, and the merge of
 * one edge's window into another's as a table of steps in the manner of
 * test_window.c: commits on edge A or B, B's window merged into A, checks on A.
 */
#include <errno.h>
#include <inttypes.h>

#include <openssl/evp.h>

#include "edge_proto.h"
#include "satp_test_util.h"

static const uint8_t key_a[SATP_EDGE_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8};
static const uint8_t key_b[SATP_EDGE_KEY_LEN] = {9, 9, 9};

/* ---------------------------------------------------------------- codec */

static int seal_msg(uint8_t *buf, const struct satp_edge_hdr *h, const struct satp_edge_record *r,
		    unsigned int n, const uint8_t *key)
{
	struct satp_edge_writer wr;
	struct satp_edge_mac *m;
	unsigned int i;
	int len;

	assert_int_equal(satp_edge_mac_new(&m, key), 0);
	satp_edge_begin(&wr, buf, h);
	for (i = 0; i < n; i++)
		assert_int_equal(satp_edge_add(&wr, &r[i]), 0);
	len = satp_edge_seal(&wr, m);
	satp_edge_mac_free(m);
	assert_true(len > 0);
	return len;
}

static enum satp_edge_verdict open_msg(const uint8_t *buf, size_t len, const uint8_t *key,
				       struct satp_edge_hdr *h, struct satp_edge_record *recs,
				       unsigned int *n)
{
	struct satp_edge_mac *m;
	enum satp_edge_verdict v;

	assert_int_equal(satp_edge_mac_new(&m, key), 0);
	v = satp_edge_open(m, buf, len, h, recs, SATP_EDGE_RECS_MAX, n);
	satp_edge_mac_free(m);
	return v;
}

static void test_round_trip(void **state)
{
	static const uint32_t nbits[] = {0, 1, 63, 64, 65, 99, 127};
	static struct satp_edge_record in[7], out[SATP_EDGE_RECS_MAX];
	struct satp_edge_hdr h = {.flags = SATP_EDGE_F_FULL | SATP_EDGE_F_HELLO,
				  .edge_id = 0xbeef,
				  .stamp = 0x0123456789abcdefull},
			     got;
	uint8_t buf[SATP_EDGE_MSG_MAX];
	unsigned int i, n;
	int len;

	for (i = 0; i < ARRAY_SIZE(nbits); i++) {
		in[i].mux = (uint16_t)(i * 1000);
		in[i].sender_id = (uint16_t)(65535 - i);
		in[i].top = 0xfffffff0u + i;
		in[i].nbits = nbits[i];
		in[i].bits[0] = 0xa5a5a5a5a5a5a5a5ull;
		in[i].bits[1] = 0x8000000000000001ull;
	}
	len = seal_msg(buf, &h, in, ARRAY_SIZE(in), key_a);
	assert_int_equal(open_msg(buf, (size_t)len, key_a, &got, out, &n), SATP_EDGE_OK);
	assert_int_equal(got.flags, h.flags);
	assert_int_equal(got.edge_id, h.edge_id);
	assert_true(got.stamp == h.stamp);
	assert_int_equal(n, ARRAY_SIZE(in));
	for (i = 0; i < n; i++) {
		uint64_t w0 = in[i].bits[0], w1 = in[i].bits[1];

		/* Bits from nbits on are not sent. */
		if (nbits[i] < 64)
			w0 &= nbits[i] ? (1ull << nbits[i]) - 1 : 0;
		w1 = nbits[i] <= 64   ? 0
		     : nbits[i] < 128 ? w1 & ((1ull << (nbits[i] - 64)) - 1)
				      : w1;
		assert_int_equal(out[i].mux, in[i].mux);
		assert_int_equal(out[i].sender_id, in[i].sender_id);
		assert_int_equal(out[i].top, in[i].top);
		assert_int_equal(out[i].nbits, in[i].nbits);
		assert_true(out[i].bits[0] == w0);
		assert_true(out[i].bits[1] == w1);
	}
	assert_string_equal(satp_edge_verdict_name(SATP_EDGE_BAD_TAG), "bad_tag");
}

/* The message fills up: -ENOSPC, and the records written so far still seal. */
static void test_full_message(void **state)
{
	static struct satp_edge_record r = {.nbits = SATP_EDGE_BITS_MAX}, out[SATP_EDGE_RECS_MAX];
	struct satp_edge_hdr h = {0}, got;
	struct satp_edge_writer wr;
	struct satp_edge_mac *m;
	uint8_t buf[SATP_EDGE_MSG_MAX];
	unsigned int n, added = 0;
	int len;

	assert_int_equal(satp_edge_mac_new(&m, key_a), 0);
	satp_edge_begin(&wr, buf, &h);
	while (satp_edge_add(&wr, &r) == 0)
		added++;
	assert_int_equal(added, 2); /* 524 bytes each: a full 4096-bit window, twice */
	r.nbits = SATP_WINDOW_BITS;
	assert_int_equal(satp_edge_add(&wr, &r), -EINVAL);
	len = satp_edge_seal(&wr, m);
	assert_true(len > 0 && len <= SATP_EDGE_MSG_MAX);
	assert_int_equal(satp_edge_open(m, buf, (size_t)len, &got, out, SATP_EDGE_RECS_MAX, &n),
			 SATP_EDGE_OK);
	assert_int_equal(n, 2);
	satp_edge_mac_free(m);
}

/* Tag a hand-made body with key_a, so that what is tested is the parser, not the MAC. */
static size_t tag_raw(uint8_t *buf, size_t body)
{
	size_t out = 0;

	assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key_a, sizeof(key_a), buf,
				  body, buf + body, SATP_EDGE_TAG_LEN, &out));
	assert_int_equal(out, SATP_EDGE_TAG_LEN);
	return body + SATP_EDGE_TAG_LEN;
}

enum mutation {
	M_NONE,
	M_TRUNCATE,	/* len = arg */
	M_BYTE,		/* buf[arg] ^= 0x01, tag left as it was */
	M_BYTE_RETAG,	/* buf[arg] ^= val, then tagged again */
	M_APPEND_RETAG, /* one more zero byte before the tag */
	M_OTHER_KEY,	/* opened with key_b */
};

static const struct {
	const char *name;
	enum mutation m;
	size_t arg;
	uint8_t val;
	enum satp_edge_verdict want;
	/* clang-format off */
} cases[] = {
    {"intact", M_NONE, 0, 0, SATP_EDGE_OK},
    {"empty", M_TRUNCATE, 0, 0, SATP_EDGE_SHORT},
    {"header and half a tag", M_TRUNCATE, SATP_EDGE_HDR_LEN + 16, 0, SATP_EDGE_SHORT},
    {"header only plus tag length - 1", M_TRUNCATE, SATP_EDGE_HDR_LEN + SATP_EDGE_TAG_LEN - 1, 0,
     SATP_EDGE_SHORT},
    {"bad magic", M_BYTE_RETAG, 0, 0x10, SATP_EDGE_BAD_MAGIC},
    {"version 2", M_BYTE_RETAG, 4, 0x03, SATP_EDGE_BAD_MAGIC},
    {"a body byte flipped", M_BYTE, 9, 0, SATP_EDGE_BAD_TAG},
    {"a record byte flipped", M_BYTE, SATP_EDGE_HDR_LEN + 5, 0, SATP_EDGE_BAD_TAG},
    {"a tag byte flipped", M_BYTE, SATP_EDGE_HDR_LEN + 32 + 3, 0, SATP_EDGE_BAD_TAG},
    {"another key", M_OTHER_KEY, 0, 0, SATP_EDGE_BAD_TAG},
    {"cut after a record, count kept", M_TRUNCATE, SATP_EDGE_HDR_LEN + 20 + SATP_EDGE_TAG_LEN - 8,
     0, SATP_EDGE_BAD_TAG},
    {"unknown flag", M_BYTE_RETAG, 5, 0x80, SATP_EDGE_MALFORMED},
    {"reserved header field", M_BYTE_RETAG, 19, 0x01, SATP_EDGE_MALFORMED},
    {"count one more than the records", M_BYTE_RETAG, 17, 0x01, SATP_EDGE_MALFORMED},
    {"count one less than the records", M_BYTE_RETAG, 17, 0x03, SATP_EDGE_MALFORMED},
    {"reserved record field", M_BYTE_RETAG, SATP_EDGE_HDR_LEN + 11, 0x01, SATP_EDGE_MALFORMED},
    {"a bit past nbits", M_BYTE_RETAG, SATP_EDGE_HDR_LEN + 12, 0x80, SATP_EDGE_MALFORMED},
    {"nbits past the bytes", M_BYTE_RETAG, SATP_EDGE_HDR_LEN + 8, 0x01, SATP_EDGE_MALFORMED},
    {"nbits 4096 and up", M_BYTE_RETAG, SATP_EDGE_HDR_LEN + 8, 0x10, SATP_EDGE_MALFORMED},
    {"a byte after the last record", M_APPEND_RETAG, 0, 0, SATP_EDGE_MALFORMED},
};
/* clang-format on */

/* One record of nbits 5 (one word) in a message of count 2: the second has nbits 0. */
static void test_refusals(void **state)
{
	struct satp_edge_record r[2] = {
	    {.mux = 1, .sender_id = 7, .top = 100, .nbits = 5, .bits = {0x15}},
	    {.mux = 1, .sender_id = 8, .top = 50, .nbits = 0}};
	static struct satp_edge_record out[SATP_EDGE_RECS_MAX];
	struct satp_edge_hdr h = {.edge_id = 1, .stamp = 42}, got;
	uint8_t buf[SATP_EDGE_MSG_MAX + 1];
	size_t i, len, body;
	unsigned int n;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		len = (size_t)seal_msg(buf, &h, r, 2, key_a);
		body = len - SATP_EDGE_TAG_LEN;
		switch (cases[i].m) {
		case M_TRUNCATE:
			len = cases[i].arg;
			break;
		case M_BYTE:
			buf[cases[i].arg] ^= 0x01;
			break;
		case M_BYTE_RETAG:
			buf[cases[i].arg] ^= cases[i].val;
			len = tag_raw(buf, body);
			break;
		case M_APPEND_RETAG:
			buf[body] = 0;
			len = tag_raw(buf, body + 1);
			break;
		case M_NONE:
		case M_OTHER_KEY:
			break;
		}
		print_message("%s\n", cases[i].name);
		assert_int_equal(
		    open_msg(buf, len, cases[i].m == M_OTHER_KEY ? key_b : key_a, &got, out, &n),
		    cases[i].want);
		if (cases[i].want != SATP_EDGE_OK)
			assert_int_equal(n, 0);
	}
}

/* HKDF-SHA256(salt, master key, label): computed apart with Python's hmac module. */
static void test_derive_key(void **state)
{
	uint8_t mk[16], salt[SATP_SALT_LEN], out[SATP_EDGE_KEY_LEN], out2[SATP_EDGE_KEY_LEN];

	test_unhex(KEY128, mk, sizeof(mk));
	test_unhex(SALT, salt, sizeof(salt));
	assert_int_equal(satp_edge_derive_key(mk, sizeof(mk), salt, out), 0);
	test_assert_hex(out, sizeof(out),
			"2502eb3b5998a5a74f606e9985377971ac6f7c2d1a5633036060ba7ea8ffdd9d");
	mk[0] ^= 1;
	assert_int_equal(satp_edge_derive_key(mk, sizeof(mk), salt, out2), 0);
	assert_memory_not_equal(out, out2, sizeof(out));
	assert_int_equal(satp_edge_derive_key(mk, 0, salt, out2), -EINVAL);
}

/* ---------------------------------------------------------------- merge */

enum op {
	RESET,	  /* arg: A's size, arg2: B's size */
	COMMIT_A, /* arg: seq; want: verdict */
	COMMIT_B,
	MERGE,	 /* B's export, through the codec, into A; want: 1 changed, 0 not */
	CHECK_A, /* satp_window_check on A, as XDP does */
};

struct step {
	enum op op;
	uint32_t arg, arg2;
	int want;
	unsigned int line;
};

#define RS(a, b)                                                                                   \
	{                                                                                          \
		RESET, a, b, 0, __LINE__                                                           \
	}
#define CA(seq, want)                                                                              \
	{                                                                                          \
		COMMIT_A, seq, 0, SATP_##want, __LINE__                                            \
	}
#define CB(seq)                                                                                    \
	{                                                                                          \
		COMMIT_B, seq, 0, SATP_OK, __LINE__                                                \
	}
#define MG(changed)                                                                                \
	{                                                                                          \
		MERGE, 0, 0, changed, __LINE__                                                     \
	}
#define KA(seq, want)                                                                              \
	{                                                                                          \
		CHECK_A, seq, 0, SATP_##want, __LINE__                                             \
	}

/* clang-format off */
static const struct step steps[] = {
    /* B accepted what A never saw: A refuses it after the merge, newer seqs pass */
    RS(64, 64), CB(10), CB(11), CB(12), MG(1), KA(12, REPLAY), KA(11, REPLAY), KA(10, REPLAY),
    KA(9, OK), KA(13, OK), CA(11, REPLAY), CA(13, OK), CA(9, OK), MG(0),
    /* A ahead of B: A's top stays, B's seqs inside A's window are closed */
    RS(64, 64), CA(100, OK), CB(50), CB(60), MG(1), KA(60, REPLAY), KA(50, REPLAY), KA(61, OK),
    KA(100, REPLAY), KA(36, TOO_OLD), CA(60, REPLAY),
    /* B far ahead: A's top moves, its old seqs are too old now */
    RS(64, 64), CA(5, OK), CB(1000), MG(1), KA(5, TOO_OLD), KA(1000, REPLAY), KA(999, OK),
    CA(999, OK), CA(1001, OK),
    /* B entirely older than A's window: nothing changes */
    RS(64, 64), CA(1000, OK), CB(10), CB(11), MG(0), KA(10, TOO_OLD), KA(999, OK),
    /* merging is idempotent and commutes with commits */
    RS(64, 64), CB(7), CB(9), MG(1), MG(0), CA(8, OK), MG(0), KA(7, REPLAY), KA(8, REPLAY),
    KA(9, REPLAY), KA(6, OK),
    /* another -w on each edge: A keeps its own size, B's bits beyond it are too old here */
    RS(64, 128), CB(1000), CB(900), CB(990), MG(1), KA(900, TOO_OLD), KA(990, REPLAY),
    KA(991, OK), KA(1000, REPLAY),
    RS(128, 16), CA(1000, OK), CB(950), CB(940), MG(1), KA(950, REPLAY), KA(940, REPLAY),
    KA(941, OK),
    /* across the 2^32 wrap */
    RS(64, 64), CB(0xfffffff0), CB(5), MG(1), KA(0xfffffff0, REPLAY), KA(5, REPLAY),
    KA(0xfffffff1, OK), KA(0, OK), CA(0xffffffff, OK), CA(5, REPLAY),
    RS(64, 64), CA(3, OK), CB(0xfffffffe), MG(1), KA(0xfffffffe, REPLAY), KA(3, REPLAY),
    /* the largest window: seq top - 4096 is too old, top - 4095 carried */
    RS(4096, 4096), CB(1), CB(4096), MG(1), KA(1, REPLAY), KA(4096, REPLAY), KA(2, OK),
    KA(0, TOO_OLD),
    /* protection off on A: a merge changes nothing, everything passes */
    RS(0, 64), CB(5), MG(0), KA(5, OK), CA(5, OK), CA(5, OK),
    /* B has nothing committed: no record, nothing to merge */
    RS(64, 64), CA(5, OK), MG(0), KA(6, OK),
};
/* clang-format on */

static void merge_b_into_a(struct satp_window *a, const struct satp_window *b, int want,
			   unsigned int line)
{
	static struct satp_edge_record r, out[SATP_EDGE_RECS_MAX];
	struct satp_edge_hdr h = {.edge_id = 2, .stamp = 1}, got;
	uint8_t buf[SATP_EDGE_MSG_MAX];
	unsigned int n;
	int len;

	memset(&r, 0, sizeof(r));
	if (satp_window_export(b, &r.top, r.bits, &r.nbits)) {
		if (want)
			fail_msg("line %u: B exports nothing", line);
		return;
	}
	len = seal_msg(buf, &h, &r, 1, key_a);
	assert_int_equal(open_msg(buf, (size_t)len, key_a, &got, out, &n), SATP_EDGE_OK);
	assert_int_equal(n, 1);
	if (satp_window_merge(a, out[0].top, out[0].bits, out[0].nbits) != want)
		fail_msg("line %u: merge returned %d", line, !want);
}

static void test_merge_table(void **state)
{
	struct satp_window *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	size_t i;
	int got;

	assert_non_null(a);
	assert_non_null(b);
	for (i = 0; i < ARRAY_SIZE(steps); i++) {
		const struct step *s = &steps[i];

		switch (s->op) {
		case RESET:
			satp_window_init(a, s->arg);
			satp_window_init(b, s->arg2);
			continue;
		case MERGE:
			merge_b_into_a(a, b, s->want, s->line);
			continue;
		case COMMIT_A:
			got = (int)satp_window_commit(a, s->arg);
			break;
		case COMMIT_B:
			got = (int)satp_window_commit(b, s->arg);
			break;
		case CHECK_A:
			got = (int)satp_window_check(a, s->arg);
			break;
		}
		if (got != s->want)
			fail_msg("line %u: seq %#x: got %s, want %s", s->line, s->arg,
				 satp_verdict_name((enum satp_verdict)got),
				 satp_verdict_name((enum satp_verdict)s->want));
	}
	free(a);
	free(b);
}

/* Export is exactly the seqs inside the window, newest first, for every size. */
static void test_export_layout(void **state)
{
	static const uint32_t sizes[] = {1, 2, 63, 64, 65, 100, 4096};
	struct satp_window *w = calloc(1, sizeof(*w));
	uint64_t bits[SATP_WINDOW_WORDS];
	uint32_t top, nbits, i, k;

	assert_non_null(w);
	for (k = 0; k < ARRAY_SIZE(sizes); k++) {
		satp_window_init(w, sizes[k]);
		assert_int_equal(satp_window_export(w, &top, bits, &nbits), -ENOENT);
		/* every third seq below 10000 that the window still holds */
		for (i = 9000; i <= 10000; i++)
			if (i % 3 == 1 || i == 10000)
				satp_window_commit(w, i);
		assert_int_equal(satp_window_export(w, &top, bits, &nbits), 0);
		assert_int_equal(top, 10000);
		assert_int_equal(nbits, sizes[k] - 1);
		for (i = 0; i < SATP_WINDOW_WORDS * 64; i++) {
			bool set = bits[i / 64] & (1ull << (i % 64));
			uint32_t seq = 10000 - 1 - i;
			bool want = i < nbits && seq >= 9000 && seq % 3 == 1;

			if (set != want)
				fail_msg("size %u: bit %u is %d", sizes[k], i, set);
		}
	}
	satp_window_init(w, 0);
	assert_int_equal(satp_window_export(w, &top, bits, &nbits), -ENOENT);
	free(w);
}

/* ---------------------------------------------------------------- own id */

/*
 * L7: a message with this edge's id is ours reflected only if we sent its
 * stamp; a fresh stamp we never sent is a twin edge (keystream reuse: satpd
 * stops sending); older than the ring, or before our first message, cannot
 * be told (a previous run's): never a twin, so a replay cannot stop us.
 */
static void test_own_id(void **state)
{
	static struct satp_edge_sent s;
	static const struct {
		uint64_t stamp;
		enum satp_edge_self want;
		/* clang-format off */
	} rows[] = {
	    {1000, SATP_EDGE_SELF_OURS},      {1000 + 10 * (SATP_EDGE_SENT_MAX - 1), SATP_EDGE_SELF_OURS},
	    {1005, SATP_EDGE_SELF_TWIN},      {1000 + 10 * SATP_EDGE_SENT_MAX, SATP_EDGE_SELF_TWIN},
	    {999, SATP_EDGE_SELF_UNKNOWN},    {1, SATP_EDGE_SELF_UNKNOWN},
	};
	/* clang-format on */
	unsigned int i;

	assert_int_equal(satp_edge_self_check(&s, 1000), SATP_EDGE_SELF_UNKNOWN); /* none sent */
	for (i = 0; i < SATP_EDGE_SENT_MAX; i++)
		satp_edge_sent_add(&s, 1000 + 10 * (uint64_t)i);
	for (i = 0; i < ARRAY_SIZE(rows); i++)
		if (satp_edge_self_check(&s, rows[i].stamp) != rows[i].want)
			fail_msg("row %u: stamp %" PRIu64 ": got %d, want %d", i, rows[i].stamp,
				 satp_edge_self_check(&s, rows[i].stamp), rows[i].want);
	/* the ring moves on: the oldest is forgotten (unknown), the newest is ours */
	satp_edge_sent_add(&s, 1000 + 10 * (uint64_t)SATP_EDGE_SENT_MAX);
	assert_int_equal(satp_edge_self_check(&s, 1000), SATP_EDGE_SELF_UNKNOWN);
	assert_int_equal(satp_edge_self_check(&s, 1010), SATP_EDGE_SELF_OURS);
	assert_int_equal(satp_edge_self_check(&s, 1000 + 10 * (uint64_t)SATP_EDGE_SENT_MAX),
			 SATP_EDGE_SELF_OURS);
	assert_int_equal(satp_edge_self_check(&s, 1015), SATP_EDGE_SELF_TWIN);
}

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),	 cmocka_unit_test(test_full_message),
	    cmocka_unit_test(test_refusals),	 cmocka_unit_test(test_derive_key),
	    cmocka_unit_test(test_merge_table), cmocka_unit_test(test_export_layout),
	    cmocka_unit_test(test_own_id),
	};
	/* clang-format on */

	return cmocka_run_group_tests(tests, NULL, NULL);
}
