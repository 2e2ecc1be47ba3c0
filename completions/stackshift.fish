# fish completion for stackshift 0.1.0.
# Generated from the command tree by scripts/gen-docs (also: `stackshift completion fish`); do not edit.
# Install: copy to ~/.config/fish/completions/stackshift.fish, or run
# `stackshift completion fish | source` (e.g. in ~/.config/fish/config.fish).

# Prints PATH:NARGS for the words before the cursor: the command path and how many arguments it has.
function __stackshift_state
    set -l path ''
    set -l nargs 0
    set -l skip 0
    for word in (commandline -opc)[2..-1]
        if test $skip = 1
            set skip 0
            continue
        end
        switch "$path:$word"
            case ':--profile' ':--backend' 'domains create:--dkim-selector' 'domains create:--key-size' 'domains create:--provider' 'domains create:--timeout' 'domains create:--interval' 'domains records:--format' 'domains records:-f' 'domains list:--status' 'domains verify:--timeout' 'domains verify:--interval' 'domains verify:--nameserver' 'domains verify:--concurrency' 'domains verify:--shard' 'domains publish:--provider' 'domains publish:--timeout' 'domains publish:--interval' 'domains rotate-dkim:--selector' 'domains rotate-dkim:--key-size' 'domains rotate-dkim:--overlap' 'domains rotate-dkim:--provider' 'domains dkim-export:--format' 'domains dkim-export:-f' 'domains history:--since' 'domains watch:--interval' 'domains watch:--prometheus' 'domains watch:--nameserver'
                set skip 1
            case ':domains' ':providers' ':config' ':auth' ':completion' 'domains:create' 'domains:records' 'domains:list' 'domains:show' 'domains:delete' 'domains:verify' 'domains:publish' 'domains:unpublish' 'domains:rotate-dkim' 'domains:dkim-export' 'domains:history' 'domains:watch' 'providers:list' 'config:path' 'config:list' 'config:get' 'config:set' 'config:unset' 'auth:login' 'auth:status' 'auth:logout'
                set path (string trim -- "$path $word")
            case '*:-*'
            case '*'
                set nargs (math $nargs + 1)
        end
    end
    echo "$path:$nargs"
end

function __stackshift_at --argument-names pattern
    string match -q -- $pattern (__stackshift_state)
end

function __stackshift_dynamic --argument-names kind
    set -l words (commandline -opc)
    set -l globals
    for i in (seq 2 (math (count $words) - 1))
        if contains -- $words[$i] --profile --backend
            set -a globals $words[$i] $words[(math $i + 1)]
        end
    end
    # Each line is `word<TAB>description`, untrusted: fish expands neither the text of a command
    # substitution nor a variable's value, and only words of plain characters are passed on, with their
    # description when it is plain too.
    for line in (command stackshift $globals __complete $kind (commandline -ct) 2>/dev/null)
        set -l parts (string split -m 1 \t -- $line)
        if test -z "$parts[1]"; or string match -qr -- '[^abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-]' $parts[1]
            continue
        end
        if set -q parts[2]; and not string match -qr -- '[^abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-]' $parts[2]
            printf '%s\t%s\n' $parts[1] $parts[2]
        else
            printf '%s\n' $parts[1]
        end
    end
end

complete -c stackshift -f  # never file names
complete -c stackshift -n "__stackshift_at ':*'" -a 'domains' -d 'Create sender domains, publish and verify their DNS records, rotate their DKIM keys, watch them.'
complete -c stackshift -n "__stackshift_at ':*'" -a 'providers' -d 'DNS providers that `domains publish` writes records through.'
complete -c stackshift -n "__stackshift_at ':*'" -a 'config' -d 'Read and change settings (per profile: --profile or STACKSHIFT_PROFILE).'
complete -c stackshift -n "__stackshift_at ':*'" -a 'auth' -d 'Store, show or remove the StackShift API key of a profile.'
complete -c stackshift -n "__stackshift_at ':*'" -a 'completion' -d 'Print the completion script for a shell.'
complete -c stackshift -n "__stackshift_at ':*'" -l profile -x -a '(__stackshift_dynamic profiles)' -d 'Config profile to use.'
complete -c stackshift -n "__stackshift_at ':*'" -l backend -x -a 'local api' -d 'Where domains live: local store or StackShift API (default: api when an API key is set).'
complete -c stackshift -n "__stackshift_at ':*'" -l json -d 'Print JSON and nothing else on stdout.'
complete -c stackshift -n "__stackshift_at ':*'" -l no-color -d 'No colour (also NO_COLOR).'
complete -c stackshift -n "__stackshift_at ':*'" -l quiet -s q -d 'Only data and errors; no progress or hints.'
complete -c stackshift -n "__stackshift_at ':*'" -l debug -d 'Log requests and show tracebacks.'
complete -c stackshift -n "__stackshift_at ':*'" -l version -d 'Print the version and exit.'
complete -c stackshift -n "__stackshift_at ':*'" -l help -s h -d 'Show this message and exit.'
complete -c stackshift -n "__stackshift_at 'domains:*'" -a 'create' -d 'Create a sender domain and print the DNS records to publish (or, with --publish, publish them).'
complete -c stackshift -n "__stackshift_at 'domains:*'" -a 'records' -d 'Print the DNS records to publish for a domain.'
complete -c stackshift -n "__stackshift_at 'domains:*'" -a 'list' -d 'List domains: status, the four checks, created and last-checked times.'
complete -c stackshift -n "__stackshift_at 'domains:*'" -a 'show' -d 'Show every field of a domain, its records, and where its DKIM private key is.'
complete -c stackshift -n "__stackshift_at 'domains:*'" -a 'delete' -d 'Delete a domain from stackshift.'
complete -c stackshift -n "__stackshift_at 'domains:*'" -a 'verify' -d 'Check a domain\'s DNS records now: exit 0 verified, 3 failed, 4 pending.'
complete -c stackshift -n "__stackshift_at 'domains:*'" -a 'publish' -d 'Write the domain\'s records at your DNS provider: plan first, merge, never clobber (exit 7 on conflicts).'
complete -c stackshift -n "__stackshift_at 'domains:*'" -a 'unpublish' -d 'Undo exactly what `publish` wrote for the domain (records changed since are left alone and reported).'
complete -c stackshift -n "__stackshift_at 'domains:*'" -a 'rotate-dkim' -d 'Rotate the domain\'s DKIM key without a minute unsigned: start a rotation, or move it on (run it again).'
complete -c stackshift -n "__stackshift_at 'domains:*'" -a 'dkim-export' -d 'Print what your own mail server needs to sign with the domain\'s DKIM key (the key stays where it is).'
complete -c stackshift -n "__stackshift_at 'domains:*'" -a 'history' -d 'Every status change verify saw for the domain and its records, newest last.'
complete -c stackshift -n "__stackshift_at 'domains:*'" -a 'watch' -d 'Re-verify domains round after round and print each change once, as it is stored.'
complete -c stackshift -n "__stackshift_at 'domains:*'" -l help -s h -d 'Show this message and exit.'
complete -c stackshift -n "__stackshift_at 'domains create:*'" -l dkim-selector -x -d 'DKIM selector (default: the profile\'s, \'stackshift\').'
complete -c stackshift -n "__stackshift_at 'domains create:*'" -l inbound -d 'Also add an MX record for inbound mail.'
complete -c stackshift -n "__stackshift_at 'domains create:*'" -l exist-ok -d 'If the domain exists, print it and exit 0.'
complete -c stackshift -n "__stackshift_at 'domains create:*'" -l key-size -x -a '1024 2048 3072 4096' -d 'Bits of the new DKIM RSA key (default 2048; receivers treat 1024 as weak).'
complete -c stackshift -n "__stackshift_at 'domains create:*'" -l publish -d 'Then publish the records at your DNS provider (as `domains publish`).'
complete -c stackshift -n "__stackshift_at 'domains create:*'" -l provider -x -d 'DNS provider to publish through (rfc2136, cloudflare, ...; default: publish.provider). `stackshift providers list` shows them.'
complete -c stackshift -n "__stackshift_at 'domains create:*'" -l yes -s y -d 'Do not ask for confirmation.'
complete -c stackshift -n "__stackshift_at 'domains create:*'" -l wait -d 'Then re-check until verified or --timeout passes.'
complete -c stackshift -n "__stackshift_at 'domains create:*'" -l timeout -x -d 'How long --wait waits, e.g. 15m, 1h.'
complete -c stackshift -n "__stackshift_at 'domains create:*'" -l interval -x -d 'First delay between checks with --wait (backs off to 60s).'
complete -c stackshift -n "__stackshift_at 'domains create:*'" -l json -d 'Print JSON and nothing else on stdout.'
complete -c stackshift -n "__stackshift_at 'domains create:*'" -l help -s h -d 'Show this message and exit.'
complete -c stackshift -n "__stackshift_at 'domains records:*'" -l format -s f -x -a 'table json plain zone csv' -d 'table (terminal), plain (host<TAB>type<TAB>value), json, zone (BIND), csv.'
complete -c stackshift -n "__stackshift_at 'domains records:*'" -l json -d 'Print JSON and nothing else on stdout.'
complete -c stackshift -n "__stackshift_at 'domains records:*'" -l help -s h -d 'Show this message and exit.'
complete -c stackshift -n "__stackshift_at 'domains records:0'" -a '(__stackshift_dynamic domains)'
complete -c stackshift -n "__stackshift_at 'domains list:*'" -l status -x -a 'pending verified failed disabled' -d 'Only domains with this status.'
complete -c stackshift -n "__stackshift_at 'domains list:*'" -l json -d 'Print JSON and nothing else on stdout.'
complete -c stackshift -n "__stackshift_at 'domains list:*'" -l help -s h -d 'Show this message and exit.'
complete -c stackshift -n "__stackshift_at 'domains show:*'" -l json -d 'Print JSON and nothing else on stdout.'
complete -c stackshift -n "__stackshift_at 'domains show:*'" -l help -s h -d 'Show this message and exit.'
complete -c stackshift -n "__stackshift_at 'domains show:0'" -a '(__stackshift_dynamic domains)'
complete -c stackshift -n "__stackshift_at 'domains delete:*'" -l yes -s y -d 'Do not ask for confirmation.'
complete -c stackshift -n "__stackshift_at 'domains delete:*'" -l json -d 'Print JSON and nothing else on stdout.'
complete -c stackshift -n "__stackshift_at 'domains delete:*'" -l help -s h -d 'Show this message and exit.'
complete -c stackshift -n "__stackshift_at 'domains delete:0'" -a '(__stackshift_dynamic domains)'
complete -c stackshift -n "__stackshift_at 'domains verify:*'" -l all -d 'Verify every domain that is not disabled.'
complete -c stackshift -n "__stackshift_at 'domains verify:*'" -l wait -d 'Re-check until verified or --timeout passes.'
complete -c stackshift -n "__stackshift_at 'domains verify:*'" -l timeout -x -d 'How long --wait waits, e.g. 15m, 1h.'
complete -c stackshift -n "__stackshift_at 'domains verify:*'" -l interval -x -d 'First delay between checks with --wait (backs off to 60s).'
complete -c stackshift -n "__stackshift_at 'domains verify:*'" -l fail-fast -d 'Stop at the first failed verdict (exit 3).'
complete -c stackshift -n "__stackshift_at 'domains verify:*'" -l nameserver -x -d 'Resolver to query (repeatable; default: the system\'s).'
complete -c stackshift -n "__stackshift_at 'domains verify:*'" -l concurrency -x -d 'Most DNS queries in flight at once (default 256).'
complete -c stackshift -n "__stackshift_at 'domains verify:*'" -l shard -x -d 'With --all: only the I-th of N partitions of the domains (by id, 0-based).'
complete -c stackshift -n "__stackshift_at 'domains verify:*'" -l json -d 'Print JSON and nothing else on stdout.'
complete -c stackshift -n "__stackshift_at 'domains verify:*'" -l help -s h -d 'Show this message and exit.'
complete -c stackshift -n "__stackshift_at 'domains verify:0'" -a '(__stackshift_dynamic domains)'
complete -c stackshift -n "__stackshift_at 'domains publish:*'" -l provider -x -d 'DNS provider to publish through (rfc2136, cloudflare, ...; default: publish.provider). `stackshift providers list` shows them.'
complete -c stackshift -n "__stackshift_at 'domains publish:*'" -l dry-run -d 'Print the plan and change nothing (exit 7 on conflicts).'
complete -c stackshift -n "__stackshift_at 'domains publish:*'" -l yes -s y -d 'Do not ask for confirmation.'
complete -c stackshift -n "__stackshift_at 'domains publish:*'" -l replace -d 'Replace what is in the way where the plan says so (another DKIM key, records at the return-path name, a broken SPF or DMARC record).'
complete -c stackshift -n "__stackshift_at 'domains publish:*'" -l wait -d 'Then re-check until verified or --timeout passes.'
complete -c stackshift -n "__stackshift_at 'domains publish:*'" -l timeout -x -d 'How long --wait waits, e.g. 15m, 1h.'
complete -c stackshift -n "__stackshift_at 'domains publish:*'" -l interval -x -d 'First delay between checks with --wait (backs off to 60s).'
complete -c stackshift -n "__stackshift_at 'domains publish:*'" -l json -d 'Print JSON and nothing else on stdout.'
complete -c stackshift -n "__stackshift_at 'domains publish:*'" -l help -s h -d 'Show this message and exit.'
complete -c stackshift -n "__stackshift_at 'domains publish:0'" -a '(__stackshift_dynamic domains)'
complete -c stackshift -n "__stackshift_at 'domains unpublish:*'" -l dry-run -d 'Print what would be undone and change nothing.'
complete -c stackshift -n "__stackshift_at 'domains unpublish:*'" -l yes -s y -d 'Do not ask for confirmation.'
complete -c stackshift -n "__stackshift_at 'domains unpublish:*'" -l json -d 'Print JSON and nothing else on stdout.'
complete -c stackshift -n "__stackshift_at 'domains unpublish:*'" -l help -s h -d 'Show this message and exit.'
complete -c stackshift -n "__stackshift_at 'domains unpublish:0'" -a '(__stackshift_dynamic domains)'
complete -c stackshift -n "__stackshift_at 'domains rotate-dkim:*'" -l selector -x -d 'The new selector (default stackshift-YYYYMMDD).'
complete -c stackshift -n "__stackshift_at 'domains rotate-dkim:*'" -l key-size -x -d 'Size of the new RSA key: 1024, 2048, 3072 or 4096.'
complete -c stackshift -n "__stackshift_at 'domains rotate-dkim:*'" -l overlap -x -d 'How long the old key stays published once the new one signs.'
complete -c stackshift -n "__stackshift_at 'domains rotate-dkim:*'" -l publish -d 'Publish the new record (and later the revocation) through `domains publish`.'
complete -c stackshift -n "__stackshift_at 'domains rotate-dkim:*'" -l provider -x -d 'DNS provider to publish through (rfc2136, cloudflare, ...; default: publish.provider). `stackshift providers list` shows them.'
complete -c stackshift -n "__stackshift_at 'domains rotate-dkim:*'" -l now -d 'Compromised key: revoke the old key as soon as the new one signs (no overlap).'
complete -c stackshift -n "__stackshift_at 'domains rotate-dkim:*'" -l abort -d 'Before the new key signs: remove it and its record.'
complete -c stackshift -n "__stackshift_at 'domains rotate-dkim:*'" -l new -d 'Start another rotation once the last one is done.'
complete -c stackshift -n "__stackshift_at 'domains rotate-dkim:*'" -l json -d 'Print JSON and nothing else on stdout.'
complete -c stackshift -n "__stackshift_at 'domains rotate-dkim:*'" -l help -s h -d 'Show this message and exit.'
complete -c stackshift -n "__stackshift_at 'domains rotate-dkim:0'" -a '(__stackshift_dynamic domains)'
complete -c stackshift -n "__stackshift_at 'domains dkim-export:*'" -l format -s f -x -a 'opendkim rspamd pem' -d 'opendkim (KeyTable and SigningTable lines), rspamd (local.d/dkim_signing.conf), pem (the key file\'s path; with --reveal, the key).'
complete -c stackshift -n "__stackshift_at 'domains dkim-export:*'" -l reveal -d 'With --format pem: print the private key itself, not its path.'
complete -c stackshift -n "__stackshift_at 'domains dkim-export:*'" -l json -d 'Print JSON and nothing else on stdout.'
complete -c stackshift -n "__stackshift_at 'domains dkim-export:*'" -l help -s h -d 'Show this message and exit.'
complete -c stackshift -n "__stackshift_at 'domains dkim-export:0'" -a '(__stackshift_dynamic domains)'
complete -c stackshift -n "__stackshift_at 'domains history:*'" -l since -x -d 'Only events from this long ago (7d, 24h) or this time (2026-11-01T00:00Z).'
complete -c stackshift -n "__stackshift_at 'domains history:*'" -l json -d 'Print JSON and nothing else on stdout.'
complete -c stackshift -n "__stackshift_at 'domains history:*'" -l help -s h -d 'Show this message and exit.'
complete -c stackshift -n "__stackshift_at 'domains history:0'" -a '(__stackshift_dynamic domains)'
complete -c stackshift -n "__stackshift_at 'domains watch:*'" -l interval -x -d 'Time between the starts of two rounds.'
complete -c stackshift -n "__stackshift_at 'domains watch:*'" -l once -d 'One round, then exit 0 (all verified), 3 (any failed, a regression past its window included) or 4 (any pending).'
complete -c stackshift -n "__stackshift_at 'domains watch:*'" -l jsonl -d 'One JSON object per change, each line flushed at once.'
complete -c stackshift -n "__stackshift_at 'domains watch:*'" -l prometheus -x -d 'Rewrite this node_exporter textfile (*.prom) after each round.'
complete -c stackshift -n "__stackshift_at 'domains watch:*'" -l nameserver -x -d 'Resolver to query (repeatable; default: the system\'s).'
complete -c stackshift -n "__stackshift_at 'domains watch:*'" -l help -s h -d 'Show this message and exit.'
complete -c stackshift -n "__stackshift_at 'domains watch:0'" -a '(__stackshift_dynamic domains)'
complete -c stackshift -n "__stackshift_at 'providers:*'" -a 'list' -d 'List the providers, with the credentials each needs (names only, never values).'
complete -c stackshift -n "__stackshift_at 'providers:*'" -l help -s h -d 'Show this message and exit.'
complete -c stackshift -n "__stackshift_at 'providers list:*'" -l json -d 'Print JSON and nothing else on stdout.'
complete -c stackshift -n "__stackshift_at 'providers list:*'" -l help -s h -d 'Show this message and exit.'
complete -c stackshift -n "__stackshift_at 'config:*'" -a 'path' -d 'Print the config file\'s path (and, with --json, the data directory too).'
complete -c stackshift -n "__stackshift_at 'config:*'" -a 'list' -d 'List the profile\'s settings (secrets show only their last 4 characters).'
complete -c stackshift -n "__stackshift_at 'config:*'" -a 'get' -d 'Print the effective value of KEY (exit 1 when it has none).'
complete -c stackshift -n "__stackshift_at 'config:*'" -a 'set' -d 'Set KEY to VALUE in the profile (checked before it is written); the profile is created if it is new.'
complete -c stackshift -n "__stackshift_at 'config:*'" -a 'unset' -d 'Remove KEY from the profile, so the default (or environment) applies again.'
complete -c stackshift -n "__stackshift_at 'config:*'" -l help -s h -d 'Show this message and exit.'
complete -c stackshift -n "__stackshift_at 'config path:*'" -l json -d 'Print JSON and nothing else on stdout.'
complete -c stackshift -n "__stackshift_at 'config path:*'" -l help -s h -d 'Show this message and exit.'
complete -c stackshift -n "__stackshift_at 'config list:*'" -l all -d 'Include defaults, with where each value comes from.'
complete -c stackshift -n "__stackshift_at 'config list:*'" -l json -d 'Print JSON and nothing else on stdout.'
complete -c stackshift -n "__stackshift_at 'config list:*'" -l help -s h -d 'Show this message and exit.'
complete -c stackshift -n "__stackshift_at 'config get:*'" -l reveal -d 'Print a secret value in full.'
complete -c stackshift -n "__stackshift_at 'config get:*'" -l json -d 'Print JSON and nothing else on stdout.'
complete -c stackshift -n "__stackshift_at 'config get:*'" -l help -s h -d 'Show this message and exit.'
complete -c stackshift -n "__stackshift_at 'config get:0'" -a 'backend api.url api.key api.timeout api.max_response_bytes dns.nameservers dns.timeout dns.authoritative_port verify.window verify.regression_window sending.spf_include sending.dkim_selector sending.dmarc_policy sending.dmarc_rua sending.return_path_host sending.return_path_target sending.inbound_host sending.inbound_target sending.inbound_priority publish.provider publish.ttl publish.timeout publish.rfc2136.server publish.rfc2136.port publish.rfc2136.key_name publish.rfc2136.key_secret publish.rfc2136.key_algorithm'
complete -c stackshift -n "__stackshift_at 'config set:*'" -l help -s h -d 'Show this message and exit.'
complete -c stackshift -n "__stackshift_at 'config set:0'" -a 'backend api.url api.key api.timeout api.max_response_bytes dns.nameservers dns.timeout dns.authoritative_port verify.window verify.regression_window sending.spf_include sending.dkim_selector sending.dmarc_policy sending.dmarc_rua sending.return_path_host sending.return_path_target sending.inbound_host sending.inbound_target sending.inbound_priority publish.provider publish.ttl publish.timeout publish.rfc2136.server publish.rfc2136.port publish.rfc2136.key_name publish.rfc2136.key_secret publish.rfc2136.key_algorithm'
complete -c stackshift -n "__stackshift_at 'config unset:*'" -l help -s h -d 'Show this message and exit.'
complete -c stackshift -n "__stackshift_at 'config unset:0'" -a 'backend api.url api.key api.timeout api.max_response_bytes dns.nameservers dns.timeout dns.authoritative_port verify.window verify.regression_window sending.spf_include sending.dkim_selector sending.dmarc_policy sending.dmarc_rua sending.return_path_host sending.return_path_target sending.inbound_host sending.inbound_target sending.inbound_priority publish.provider publish.ttl publish.timeout publish.rfc2136.server publish.rfc2136.port publish.rfc2136.key_name publish.rfc2136.key_secret publish.rfc2136.key_algorithm'
complete -c stackshift -n "__stackshift_at 'auth:*'" -a 'login' -d 'Store an API key in the profile after checking it against the API.'
complete -c stackshift -n "__stackshift_at 'auth:*'" -a 'status' -d 'Show the profile, the backend in use, the API URL and the key\'s last four characters.'
complete -c stackshift -n "__stackshift_at 'auth:*'" -a 'logout' -d 'Remove the API key from the profile.'
complete -c stackshift -n "__stackshift_at 'auth:*'" -l help -s h -d 'Show this message and exit.'
complete -c stackshift -n "__stackshift_at 'auth login:*'" -l json -d 'Print JSON and nothing else on stdout.'
complete -c stackshift -n "__stackshift_at 'auth login:*'" -l help -s h -d 'Show this message and exit.'
complete -c stackshift -n "__stackshift_at 'auth status:*'" -l json -d 'Print JSON and nothing else on stdout.'
complete -c stackshift -n "__stackshift_at 'auth status:*'" -l help -s h -d 'Show this message and exit.'
complete -c stackshift -n "__stackshift_at 'auth logout:*'" -l json -d 'Print JSON and nothing else on stdout.'
complete -c stackshift -n "__stackshift_at 'auth logout:*'" -l help -s h -d 'Show this message and exit.'
complete -c stackshift -n "__stackshift_at 'completion:*'" -l help -s h -d 'Show this message and exit.'
complete -c stackshift -n "__stackshift_at 'completion:0'" -a 'bash zsh fish'
