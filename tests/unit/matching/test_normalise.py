"""ERP short texts become index words: no units, pack sizes or part numbers; expanded words."""

from fedcarbon.matching.normalise import expand, normalise


def test_units_pack_sizes_and_part_numbers_are_dropped() -> None:
    assert normalise("HEX BOLT M8X40 DIN933 8.8 100/BX") == "hex bolt"


def test_abbreviations_are_expanded() -> None:
    assert normalise("BOX CORR 24X18X12 SS ZP") == "box corrugated stainless steel zinc plated"


def test_british_spellings_become_american() -> None:
    assert normalise("Aluminium tyres") == "aluminum tires"


def test_a_hyphenated_word_stays_and_a_hyphenated_part_number_goes() -> None:
    assert normalise("HI-VIS vest 6205-2RS") == "hi-vis vest"


def test_goods_that_are_also_pack_words_are_kept() -> None:
    assert "bags" in normalise("Trash bags 40 gal 100/cs").split()


def test_an_empty_or_symbol_only_line_normalises_to_nothing() -> None:
    assert normalise("") == ""
    assert normalise("#### 123 / 456 ---") == ""


def test_synonyms_add_index_wording_and_keep_the_original() -> None:
    assert expand("laptop silver") == "laptop silver computers"


def test_synonyms_match_whole_words_only() -> None:
    assert expand("advanced widget") == "advanced widget"


def test_synonyms_match_plural_forms() -> None:
    assert "computers" in expand("laptops")
