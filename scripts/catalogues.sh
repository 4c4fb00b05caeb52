#!/usr/bin/env bash
# Refresh the translation catalogues from the code and the templates (docs/i18n.md):
#   bash scripts/catalogues.sh
# extracts every marked text into audit/locale/messages.pot and merges it into
# audit/locale/{da,en}/LC_MESSAGES/messages.po (new texts arrive untranslated, changed ones
# as "fuzzy"). Then translate the new Danish entries, review the fuzzy ones (remove the flag),
# and run the catalogue tests: .venv/bin/python -m pytest tests/test_i18n.py
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL="${PYBABEL:-.venv/bin/pybabel}"
"$PYBABEL" extract -F babel.cfg --no-location --sort-output --omit-header \
  -k lazy_gettext -k _l -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2 \
  -o audit/locale/messages.pot .
for lang in da en; do
  po="audit/locale/$lang/LC_MESSAGES/messages.po"
  if [ -f "$po" ]; then
    "$PYBABEL" update -i audit/locale/messages.pot -d audit/locale -l "$lang" --no-wrap --ignore-obsolete
  else
    "$PYBABEL" init -i audit/locale/messages.pot -d audit/locale -l "$lang" --no-wrap
  fi
done
