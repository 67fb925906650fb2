"""Build the invoice fonts: DejaVu Sans, pre-subset to the characters invoices use.

Why: WeasyPrint spends most of a one-page render subsetting a 750 KB system font with
fontTools. Shipping a font already cut down to ~400 glyphs lets the renderer embed it
whole (`full_fonts=True`) and skip subsetting. The output is committed under
vault/templates/fonts/; rerun after changing CHARACTERS:

    .venv/bin/python -m vault.fonts

DejaVu's licence (Bitstream Vera terms, kept in fonts/LICENSE) allows modified copies as
long as the name contains neither "Bitstream" nor "Vera"; we also rename the family so
fontconfig never confuses it with the system's full DejaVu Sans.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

SOURCE_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS_DIR = Path(__file__).parent / "templates" / "fonts"
FAMILY = "Invoice Sans"  # what invoice.css asks for
FACES = {"DejaVuSans.ttf": "Regular", "DejaVuSans-Bold.ttf": "Bold"}

# Latin-1, Latin Extended-A, the Romanian comma-below letters and the punctuation, spaces
# and signs Babel puts into numbers and currencies (U+202F in French, U+2212 in some
# locales), plus common currency symbols. Enough for European names written in Latin.
_LATIN = [*range(0x20, 0x7F), *range(0xA0, 0x180), *range(0x218, 0x21C)]
_SPACES_AND_PUNCTUATION = (
    "\u2007\u2009\u200a\u202f"  # figure, thin, hair, narrow no-break spaces
    "\u2010\u2011\u2012\u2013\u2014\u2018\u2019\u201a\u201c\u201d\u201e"
    "\u2020\u2021\u2022\u2026\u2030\u2032\u2033\u2039\u203a\u2044"
    "\u2116\u2122\u2212\u2215\u2219"
)
_CURRENCIES = (
    "\u20a3\u20a4\u20a7\u20a9\u20aa\u20ab\u20ac\u20ad\u20ae\u20b1\u20b2\u20b4"
    "\u20b5\u20b8\u20b9\u20ba\u20bc\u20bd\u20be"
)
CHARACTERS = frozenset([*_LATIN, *map(ord, _SPACES_AND_PUNCTUATION + _CURRENCIES)])


def subset_font(source: Path, target: Path, style: str) -> None:
    """Write `source` cut down to CHARACTERS, renamed to FAMILY, as TrueType."""
    options = subset.Options()
    # Kerning only: ligature and contextual substitutions would produce glyphs with no
    # cmap entry, and with full_fonts WeasyPrint maps text back through the cmap, so
    # copied or extracted text would lose letters.
    options.layout_features = ["kern"]
    options.name_legacy = True
    options.name_IDs = ["*"]  # keep the copyright and licence strings
    options.notdef_outline = True
    options.drop_tables += ["FFTM", "MATH"]  # font-editor and math tables: unused here
    options.hinting = False  # PDFs are scaled, not rasterised at small pixel sizes
    font = TTFont(source, recalcTimestamp=False)  # same input, same bytes: a quiet diff
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(CHARACTERS))
    subsetter.subset(font)
    _rename(font, style)
    font.save(target)


def _rename(font: TTFont, style: str) -> None:
    names = font["name"]
    postscript = f"{FAMILY.replace(' ', '')}-{style}"
    for name_id, value in ((1, FAMILY), (2, style), (3, postscript), (4, f"{FAMILY} {style}"),
                           (6, postscript), (16, FAMILY), (17, style)):
        names.removeNames(nameID=name_id)
        names.setName(value, name_id, 3, 1, 0x409)
        names.setName(value, name_id, 1, 0, 0)


def build(target_dir: Path = FONTS_DIR, source_dir: Path = SOURCE_DIR) -> list[Path]:
    """Build every face into target_dir; returns the written paths."""
    target_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, style in FACES.items():
        target = target_dir / f"{FAMILY.replace(' ', '')}-{style}.ttf"
        subset_font(source_dir / filename, target, style)
        written.append(target)
    return written


if __name__ == "__main__":
    for path in build():
        sys.stdout.write(f"{path} {path.stat().st_size} bytes\n")
