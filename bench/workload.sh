#!/bin/sh
# A scripted stretch of "active use" in a terminal: read a page, scroll through a file,
# type a few commands, switch to another file. Runs until killed.
files=$(find /usr/lib/python3*/ /root/.pyenv/versions/*/lib/python3.11 -maxdepth 1 -name '*.py' 2>/dev/null | sort | head -200)
while true; do
  for f in $files; do
    clear
    head -n 48 "$f"                       # a new page of text
    sleep 20
    tail -n +49 "$f" | head -n 30 | while IFS= read -r line; do
      printf '%s\n' "$line"                 # scrolling, one line at a time
      sleep 0.5
    done
    printf '$ '; for word in git status --short; do printf '%s ' "$word"; sleep 0.4; done; echo
    sleep 2
  done
done
