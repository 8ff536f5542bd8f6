#!/bin/sh
# memos: the tutorial demo's note app (busybox httpd CGI, the directory index).
# GET lists the memos kept in $MEMOS_DIR/memos.txt (default /var/opt/memos), POST memo=...
# saves one (form-encoded; busybox httpd -d decodes it). Output is HTML-escaped.
DATA=${MEMOS_DIR:-/var/opt/memos}
FILE=$DATA/memos.txt
esc() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g'; }
saved=""
if [ "$REQUEST_METHOD" = POST ]; then
  body=$(head -c "${CONTENT_LENGTH:-0}")
  v=${body#*memo=}; v=${v%%&*}
  text=$(busybox httpd -d "$(printf '%s' "$v" | tr '+' ' ')" | tr '\r\n' '  ')
  if [ -n "$text" ]; then
    mkdir -p "$DATA" && printf '%s\t%s\n' "$(date -u '+%Y-%m-%d %H:%M:%S')" "$text" >> "$FILE"
    saved=1
    echo "memos: saved a memo ($(wc -l < "$FILE") in $FILE)" >&2
  fi
fi
printf 'Content-Type: text/html; charset=utf-8\r\n\r\n'
cat <<HTML
<!doctype html><html><head><meta charset="utf-8"><title>memos</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>body{font:16px system-ui,sans-serif;max-width:40em;margin:2em auto;padding:0 1em}
textarea{width:100%;height:5em}li{margin:.4em 0}small{color:#666}</style></head><body>
<h1>memos</h1><p><small>code: $(printf '%s' "${CODE:-unset}" | esc) · data in $DATA</small></p>
<form method="post" action="/"><textarea name="memo" placeholder="write a memo"></textarea>
<p><button type="submit">Save</button>${saved:+ <span id="saved">saved</span>}</p></form><ul id="memos">
HTML
if [ -s "$FILE" ]; then
  esc < "$FILE" | while IFS="$(printf '\t')" read -r when what; do
    printf '<li>%s <small>%s</small></li>\n' "$what" "$when"
  done
fi
echo '</ul></body></html>'
