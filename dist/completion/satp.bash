# SPDX-License-Identifier: GPL-2.0-only
# bash completion for satp(8)

_satp_ifnames() {
	local root=/sys/fs/bpf i
	for ((i = 1; i < COMP_CWORD; i++)); do
		[[ ${COMP_WORDS[i]} == --pin-root ]] && root=${COMP_WORDS[i + 1]}
	done
	compgen -W "$(ls "$root/satpd" 2>/dev/null)" -- "$1"
}

_satp_devs() {
	local f out=
	for f in "${SATP_RUN_DIR:-/run/satpd}"/*.sock; do
		[[ -e $f ]] && f=${f##*/} && out+=" ${f%.sock}"
	done
	compgen -W "$out" -- "$1"
}

_satp() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local cmds="show stats conn route keys session reset-window decode genkey pubkey help"
	local fields="sender window role remote key key-file passphrase salt cipher auth kd-prf tag-len route"
	local target="--dev --socket --run-dir"

	if ((COMP_CWORD == 1)); then
		mapfile -t COMPREPLY < <(compgen -W "$cmds" -- "$cur")
		return
	fi
	case $prev in
	--pin-root | --run-dir) mapfile -t COMPREPLY < <(compgen -d -- "$cur"); return ;;
	--socket | key-file) mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return ;;
	--dev) mapfile -t COMPREPLY < <(_satp_devs "$cur"); return ;;
	role) mapfile -t COMPREPLY < <(compgen -W "left right alice bob server client" -- "$cur"); return ;;
	cipher | kd-prf) mapfile -t COMPREPLY < <(compgen -W "null aes-ctr aes-ctr-128 aes-ctr-192 aes-ctr-256" -- "$cur"); return ;;
	auth) mapfile -t COMPREPLY < <(compgen -W "null sha1" -- "$cur"); return ;;
	esac
	case ${COMP_WORDS[1]} in
	show | stats)
		if [[ $cur == -* ]]; then
			local opts="--json --pin-root --run-dir --socket --help"
			[[ ${COMP_WORDS[1]} == stats ]] && opts="--watch --count --pin-root --run-dir --socket --help"
			mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
		else
			mapfile -t COMPREPLY < <(_satp_ifnames "$cur")
		fi ;;
	conn)
		if ((COMP_CWORD == 2)); then
			mapfile -t COMPREPLY < <(compgen -W "add change del" -- "$cur")
		elif ((COMP_CWORD > 3)); then
			mapfile -t COMPREPLY < <(compgen -W "$fields $target" -- "$cur")
		fi ;;
	route)
		if ((COMP_CWORD == 2)); then
			mapfile -t COMPREPLY < <(compgen -W "add del" -- "$cur")
		elif ((COMP_CWORD > 3)); then
			mapfile -t COMPREPLY < <(compgen -W "mux $target" -- "$cur")
		fi ;;
	session)
		if ((COMP_CWORD == 2)); then
			mapfile -t COMPREPLY < <(compgen -W "set del" -- "$cur")
		elif ((COMP_CWORD > 3)) && [[ ${COMP_WORDS[2]} == set ]]; then
			mapfile -t COMPREPLY < <(compgen -W "tx-key tx-salt rx-key rx-salt session grace $target" -- "$cur")
		elif ((COMP_CWORD > 3)); then
			mapfile -t COMPREPLY < <(compgen -W "$target" -- "$cur")
		fi ;;
	keys)
		((COMP_CWORD > 2)) && mapfile -t COMPREPLY < <(compgen -W "key key-file passphrase salt grace $target" -- "$cur") ;;
	reset-window)
		((COMP_CWORD > 3)) && mapfile -t COMPREPLY < <(compgen -W "$target" -- "$cur") ;;
	decode)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
	help)
		mapfile -t COMPREPLY < <(compgen -W "$cmds" -- "$cur") ;;
	esac
}
complete -F _satp satp
