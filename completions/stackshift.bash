# bash completion for stackshift 0.1.0.
# Generated from the command tree by scripts/gen-docs (also: `stackshift completion bash`); do not edit.
# Install: copy to ~/.local/share/bash-completion/completions/stackshift (needs the
# bash-completion package), or add `source <(stackshift completion bash)` to ~/.bashrc.

_stackshift_dynamic() {  # $1: domains or profiles; reads cur and globals of _stackshift
    # Each line is `word<TAB>description`, untrusted: read literally (IFS= read -r), matched against the
    # quoted "$cur" (a literal prefix), and only words of plain characters kept (bash inserts a word as is).
    local line word
    while IFS= read -r line || [[ -n $line ]]; do
        word=${line%%$'\t'*}
        [[ -n $word && $word != *[!abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-]* && $word == "$cur"* ]] && COMPREPLY+=("$word")
    done < <(command stackshift "${globals[@]}" __complete "$1" "$cur" 2>/dev/null)
}

_stackshift() {
    local cur=${COMP_WORDS[COMP_CWORD]} opt=${COMP_WORDS[COMP_CWORD-1]}
    local path="" nargs=0 i word globals=()
    COMPREPLY=()
    # Walk the words before the cursor: the command path, option values to skip, arguments given.
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        case "$path:$word" in
        ':--profile') [[ ${COMP_WORDS[i+1]} == = ]] && ((i++)); ((i++)); ((i < COMP_CWORD)) && globals+=("$word" "${COMP_WORDS[i]}") ;;
        ':--backend') [[ ${COMP_WORDS[i+1]} == = ]] && ((i++)); ((i++)); ((i < COMP_CWORD)) && globals+=("$word" "${COMP_WORDS[i]}") ;;
        'domains create:--dkim-selector') [[ ${COMP_WORDS[i+1]} == = ]] && ((i++)); ((i++)) ;;
        'domains create:--key-size') [[ ${COMP_WORDS[i+1]} == = ]] && ((i++)); ((i++)) ;;
        'domains create:--provider') [[ ${COMP_WORDS[i+1]} == = ]] && ((i++)); ((i++)) ;;
        'domains create:--timeout') [[ ${COMP_WORDS[i+1]} == = ]] && ((i++)); ((i++)) ;;
        'domains create:--interval') [[ ${COMP_WORDS[i+1]} == = ]] && ((i++)); ((i++)) ;;
        'domains records:--format'|'domains records:-f') [[ ${COMP_WORDS[i+1]} == = ]] && ((i++)); ((i++)) ;;
        'domains list:--status') [[ ${COMP_WORDS[i+1]} == = ]] && ((i++)); ((i++)) ;;
        'domains verify:--timeout') [[ ${COMP_WORDS[i+1]} == = ]] && ((i++)); ((i++)) ;;
        'domains verify:--interval') [[ ${COMP_WORDS[i+1]} == = ]] && ((i++)); ((i++)) ;;
        'domains verify:--nameserver') [[ ${COMP_WORDS[i+1]} == = ]] && ((i++)); ((i++)) ;;
        'domains verify:--concurrency') [[ ${COMP_WORDS[i+1]} == = ]] && ((i++)); ((i++)) ;;
        'domains verify:--shard') [[ ${COMP_WORDS[i+1]} == = ]] && ((i++)); ((i++)) ;;
        'domains publish:--provider') [[ ${COMP_WORDS[i+1]} == = ]] && ((i++)); ((i++)) ;;
        'domains publish:--timeout') [[ ${COMP_WORDS[i+1]} == = ]] && ((i++)); ((i++)) ;;
        'domains publish:--interval') [[ ${COMP_WORDS[i+1]} == = ]] && ((i++)); ((i++)) ;;
        'domains rotate-dkim:--selector') [[ ${COMP_WORDS[i+1]} == = ]] && ((i++)); ((i++)) ;;
        'domains rotate-dkim:--key-size') [[ ${COMP_WORDS[i+1]} == = ]] && ((i++)); ((i++)) ;;
        'domains rotate-dkim:--overlap') [[ ${COMP_WORDS[i+1]} == = ]] && ((i++)); ((i++)) ;;
        'domains rotate-dkim:--provider') [[ ${COMP_WORDS[i+1]} == = ]] && ((i++)); ((i++)) ;;
        'domains dkim-export:--format'|'domains dkim-export:-f') [[ ${COMP_WORDS[i+1]} == = ]] && ((i++)); ((i++)) ;;
        'domains history:--since') [[ ${COMP_WORDS[i+1]} == = ]] && ((i++)); ((i++)) ;;
        'domains watch:--interval') [[ ${COMP_WORDS[i+1]} == = ]] && ((i++)); ((i++)) ;;
        'domains watch:--prometheus') [[ ${COMP_WORDS[i+1]} == = ]] && ((i++)); ((i++)) ;;
        'domains watch:--nameserver') [[ ${COMP_WORDS[i+1]} == = ]] && ((i++)); ((i++)) ;;
        ':domains'|':providers'|':config'|':auth'|':completion') path="${path:+$path }$word" ;;
        'domains:create'|'domains:records'|'domains:list'|'domains:show'|'domains:delete'|'domains:verify'|'domains:publish'|'domains:unpublish'|'domains:rotate-dkim'|'domains:dkim-export'|'domains:history'|'domains:watch') path="${path:+$path }$word" ;;
        'providers:list') path="${path:+$path }$word" ;;
        'config:path'|'config:list'|'config:get'|'config:set'|'config:unset') path="${path:+$path }$word" ;;
        'auth:login'|'auth:status'|'auth:logout') path="${path:+$path }$word" ;;
        *:-*) ;;
        *) ((nargs++)) ;;
        esac
    done
    # `--format=json` is split at the `=` by bash: complete the value after it.
    if [[ $cur == = ]]; then
        cur=""
    elif [[ $opt == = ]]; then
        opt=${COMP_WORDS[COMP_CWORD-2]}
    fi
    case "$path:$opt" in
        ':--profile') _stackshift_dynamic profiles; return ;;
        ':--backend') COMPREPLY=($(compgen -W 'local api' -- "$cur")); return ;;
        'domains create:--dkim-selector') :; return ;;
        'domains create:--key-size') COMPREPLY=($(compgen -W '1024 2048 3072 4096' -- "$cur")); return ;;
        'domains create:--provider') :; return ;;
        'domains create:--timeout') :; return ;;
        'domains create:--interval') :; return ;;
        'domains records:--format'|'domains records:-f') COMPREPLY=($(compgen -W 'table json plain zone csv' -- "$cur")); return ;;
        'domains list:--status') COMPREPLY=($(compgen -W 'pending verified failed disabled' -- "$cur")); return ;;
        'domains verify:--timeout') :; return ;;
        'domains verify:--interval') :; return ;;
        'domains verify:--nameserver') :; return ;;
        'domains verify:--concurrency') :; return ;;
        'domains verify:--shard') :; return ;;
        'domains publish:--provider') :; return ;;
        'domains publish:--timeout') :; return ;;
        'domains publish:--interval') :; return ;;
        'domains rotate-dkim:--selector') :; return ;;
        'domains rotate-dkim:--key-size') :; return ;;
        'domains rotate-dkim:--overlap') :; return ;;
        'domains rotate-dkim:--provider') :; return ;;
        'domains dkim-export:--format'|'domains dkim-export:-f') COMPREPLY=($(compgen -W 'opendkim rspamd pem' -- "$cur")); return ;;
        'domains history:--since') :; return ;;
        'domains watch:--interval') :; return ;;
        'domains watch:--prometheus') :; return ;;
        'domains watch:--nameserver') :; return ;;
    esac
    if [[ $cur == -* ]]; then
        case "$path" in
        '') COMPREPLY=($(compgen -W '--profile --backend --json --no-color --quiet -q --debug --version --help -h' -- "$cur")) ;;
        'domains') COMPREPLY=($(compgen -W '--help -h' -- "$cur")) ;;
        'domains create') COMPREPLY=($(compgen -W '--dkim-selector --inbound --exist-ok --key-size --publish --provider --yes -y --wait --timeout --interval --json --help -h' -- "$cur")) ;;
        'domains records') COMPREPLY=($(compgen -W '--format -f --json --help -h' -- "$cur")) ;;
        'domains list') COMPREPLY=($(compgen -W '--status --json --help -h' -- "$cur")) ;;
        'domains show') COMPREPLY=($(compgen -W '--json --help -h' -- "$cur")) ;;
        'domains delete') COMPREPLY=($(compgen -W '--yes -y --json --help -h' -- "$cur")) ;;
        'domains verify') COMPREPLY=($(compgen -W '--all --wait --timeout --interval --fail-fast --nameserver --concurrency --shard --json --help -h' -- "$cur")) ;;
        'domains publish') COMPREPLY=($(compgen -W '--provider --dry-run --yes -y --replace --wait --timeout --interval --json --help -h' -- "$cur")) ;;
        'domains unpublish') COMPREPLY=($(compgen -W '--dry-run --yes -y --json --help -h' -- "$cur")) ;;
        'domains rotate-dkim') COMPREPLY=($(compgen -W '--selector --key-size --overlap --publish --provider --now --abort --new --json --help -h' -- "$cur")) ;;
        'domains dkim-export') COMPREPLY=($(compgen -W '--format -f --reveal --json --help -h' -- "$cur")) ;;
        'domains history') COMPREPLY=($(compgen -W '--since --json --help -h' -- "$cur")) ;;
        'domains watch') COMPREPLY=($(compgen -W '--interval --once --jsonl --prometheus --nameserver --help -h' -- "$cur")) ;;
        'providers') COMPREPLY=($(compgen -W '--help -h' -- "$cur")) ;;
        'providers list') COMPREPLY=($(compgen -W '--json --help -h' -- "$cur")) ;;
        'config') COMPREPLY=($(compgen -W '--help -h' -- "$cur")) ;;
        'config path') COMPREPLY=($(compgen -W '--json --help -h' -- "$cur")) ;;
        'config list') COMPREPLY=($(compgen -W '--all --json --help -h' -- "$cur")) ;;
        'config get') COMPREPLY=($(compgen -W '--reveal --json --help -h' -- "$cur")) ;;
        'config set') COMPREPLY=($(compgen -W '--help -h' -- "$cur")) ;;
        'config unset') COMPREPLY=($(compgen -W '--help -h' -- "$cur")) ;;
        'auth') COMPREPLY=($(compgen -W '--help -h' -- "$cur")) ;;
        'auth login') COMPREPLY=($(compgen -W '--json --help -h' -- "$cur")) ;;
        'auth status') COMPREPLY=($(compgen -W '--json --help -h' -- "$cur")) ;;
        'auth logout') COMPREPLY=($(compgen -W '--json --help -h' -- "$cur")) ;;
        'completion') COMPREPLY=($(compgen -W '--help -h' -- "$cur")) ;;
        esac
        return
    fi
    case "$path:$nargs" in
        ':'*) COMPREPLY=($(compgen -W 'domains providers config auth completion' -- "$cur")) ;;
        'domains:'*) COMPREPLY=($(compgen -W 'create records list show delete verify publish unpublish rotate-dkim dkim-export history watch' -- "$cur")) ;;
        'domains create:0') : ;;
        'domains records:0') _stackshift_dynamic domains ;;
        'domains show:0') _stackshift_dynamic domains ;;
        'domains delete:0') _stackshift_dynamic domains ;;
        'domains verify:0') _stackshift_dynamic domains ;;
        'domains publish:0') _stackshift_dynamic domains ;;
        'domains unpublish:0') _stackshift_dynamic domains ;;
        'domains rotate-dkim:0') _stackshift_dynamic domains ;;
        'domains dkim-export:0') _stackshift_dynamic domains ;;
        'domains history:0') _stackshift_dynamic domains ;;
        'domains watch:0') _stackshift_dynamic domains ;;
        'providers:'*) COMPREPLY=($(compgen -W 'list' -- "$cur")) ;;
        'config:'*) COMPREPLY=($(compgen -W 'path list get set unset' -- "$cur")) ;;
        'config get:0') COMPREPLY=($(compgen -W 'backend api.url api.key api.timeout api.max_response_bytes dns.nameservers dns.timeout dns.authoritative_port verify.window verify.regression_window sending.spf_include sending.dkim_selector sending.dmarc_policy sending.dmarc_rua sending.return_path_host sending.return_path_target sending.inbound_host sending.inbound_target sending.inbound_priority publish.provider publish.ttl publish.timeout publish.rfc2136.server publish.rfc2136.port publish.rfc2136.key_name publish.rfc2136.key_secret publish.rfc2136.key_algorithm' -- "$cur")) ;;
        'config set:0') COMPREPLY=($(compgen -W 'backend api.url api.key api.timeout api.max_response_bytes dns.nameservers dns.timeout dns.authoritative_port verify.window verify.regression_window sending.spf_include sending.dkim_selector sending.dmarc_policy sending.dmarc_rua sending.return_path_host sending.return_path_target sending.inbound_host sending.inbound_target sending.inbound_priority publish.provider publish.ttl publish.timeout publish.rfc2136.server publish.rfc2136.port publish.rfc2136.key_name publish.rfc2136.key_secret publish.rfc2136.key_algorithm' -- "$cur")) ;;
        'config set:1') : ;;
        'config unset:0') COMPREPLY=($(compgen -W 'backend api.url api.key api.timeout api.max_response_bytes dns.nameservers dns.timeout dns.authoritative_port verify.window verify.regression_window sending.spf_include sending.dkim_selector sending.dmarc_policy sending.dmarc_rua sending.return_path_host sending.return_path_target sending.inbound_host sending.inbound_target sending.inbound_priority publish.provider publish.ttl publish.timeout publish.rfc2136.server publish.rfc2136.port publish.rfc2136.key_name publish.rfc2136.key_secret publish.rfc2136.key_algorithm' -- "$cur")) ;;
        'auth:'*) COMPREPLY=($(compgen -W 'login status logout' -- "$cur")) ;;
        'completion:0') COMPREPLY=($(compgen -W 'bash zsh fish' -- "$cur")) ;;
    esac
}

complete -F _stackshift stackshift
