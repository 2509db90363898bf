#!/usr/bin/python3
"""Multilingual text samples for bench/language, from the gettext catalogues
(/usr/share/locale/<lang>/LC_MESSAGES/*.mo) installed on this machine.

For every language with enough translated messages, consecutive messages (in a
seeded shuffle) are joined into samples of 150-600 bytes, up to 150 per language.
Output: one sample per line, "<language>\\t<text>". Deterministic for a given set of
installed catalogues.

  make_samples.py > samples.tsv
"""
import gettext
import glob
import random
import re
import sys

random.seed(7)
count = 0
for directory in sorted(glob.glob("/usr/share/locale/*/LC_MESSAGES")):
    lang = directory.split("/")[4]
    if "@" in lang or lang.startswith("en"):
        continue
    messages = []
    for mo in sorted(glob.glob(directory + "/*.mo"))[:40]:
        try:
            with open(mo, "rb") as f:
                catalog = gettext.GNUTranslations(f)._catalog
        except Exception:  # a damaged or unusual catalogue: skipped
            continue
        for text in catalog.values():
            # Whole sentences only: no format strings, markup or short labels.
            if isinstance(text, str) and len(text) > 25 and "%" not in text and "{" not in text and "<" not in text:
                messages.append(re.sub(r"\s+", " ", text).strip())
    if len(messages) < 60:
        continue
    random.shuffle(messages)
    made = 0
    i = 0
    while i < len(messages) and made < 150:
        target = random.randint(150, 600)
        sample = ""
        while i < len(messages) and len(sample.encode()) < target:
            sample += messages[i] + " "
            i += 1
        print(lang.split("_")[0] + "\t" + sample.strip())
        made += 1
        count += 1
print(f"{count} samples", file=sys.stderr)
