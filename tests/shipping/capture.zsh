# Prints the words zsh's own completion system offers for a command line, one per line.
# Usage: zsh -f capture.zsh FPATH_DIR 'stackshift domains verify '
# An interactive zsh runs on a pseudo-terminal (zpty) with compinit and FPATH_DIR in $fpath; TAB is
# pressed after the given line, and a wrapper around `compadd` prints each match it is given (compadd
# itself matches them against what was typed, through -A).
zmodload zsh/zpty
setopt rcquotes

zpty capture zsh -f -i
zpty -w capture "source ${(q)0:A:h}/capture-setup.zsh ${(q)1}"
typeset line
while zpty -r capture line; do [[ $line == '<<READY>>'* ]] && break; done
zpty -w -n capture "$2"$'\t'
while zpty -r capture line; do
  [[ $line == *'<<END>>'* ]] && break
  [[ $line == '<<WORD>>'* ]] && print -r -- "${${line#<<WORD>>}%%$'\r'*}"
done
zpty -d capture
