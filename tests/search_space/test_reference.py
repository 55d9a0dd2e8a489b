from pathlib import Path

from search_space.reference import readme_section, reference_markdown
from search_space.registry import BLOCKS, STEMS

README = Path(__file__).parents[2] / "README.md"


def test_readme_key_reference_matches_the_registry():
    """Regenerate with `python -m search_space.reference README.md` after changing OPTIONS."""
    assert readme_section(README.read_text()) == reference_markdown().strip()


def test_reference_lists_every_bundled_block_and_stem():
    text = reference_markdown()
    for registry in (BLOCKS, STEMS):
        for name in registry.names():
            bundled = registry.get(name).__module__.startswith("search_space.")
            assert (f"**`{name}`**" in text) == bundled, name
