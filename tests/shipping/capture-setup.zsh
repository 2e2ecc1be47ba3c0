# Sourced by capture.zsh inside the interactive zsh under test; $1 is the directory with _stackshift.
PROMPT= RPROMPT= PS2=
unset zle_bracketed_paste
fpath=("$1" $fpath)
autoload -Uz compinit && compinit -u -D
zstyle ':completion:*' list-grouped false
zstyle ':completion:*' insert-tab false
_capture_start() { print -r -- '<<START>>' }
_capture_end() { print -r -- '<<END>>'; exit }
compprefuncs=( _capture_start )
comppostfuncs=( _capture_end )
compadd() {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then
    builtin compadd "$@"
    return
  fi
  local -a __hits
  local __hit
  builtin compadd -A __hits "$@"
  for __hit in $__hits; do print -r -- "<<WORD>>$__hit"; done
  builtin compadd "$@"
}
bindkey '^I' complete-word
bindkey '^M' undefined-key
bindkey '^J' undefined-key
print -r -- '<<READY>>'
