import os
import string

os.environ["HF_HUB_OFFLINE"] = "1"

import pytest

from creditzoo.data.arith import test_split
from creditzoo.models.tiny_tokenizer import SPECIAL_TOKENS, build_tiny_tokenizer


@pytest.fixture(scope="module")
def tok():
    return build_tiny_tokenizer()


def _ids(tok, text):
    return tok(text, add_special_tokens=False)["input_ids"]


def test_round_trip(tok):
    texts = [p.solution for p in test_split("id", 50)] + [p.problem for p in test_split("ood", 5)]
    texts += [string.printable.replace("\r", "").replace("\x0b", "").replace("\x0c", "")]
    texts += ["  two  spaces, a\ttab\nand a newline ", "x (Reference answer: -7)"]
    for text in texts:
        assert tok.decode(_ids(tok, text)) == text


def test_digits_and_multi_char_tokens(tok):
    assert tok.convert_ids_to_tokens(_ids(tok, "-1230")) == ["-", "1", "2", "3", "0"]
    pieces = tok.convert_ids_to_tokens(_ids(tok, "Compute 2+3. (Reference answer: 5) \\boxed{5}"))
    assert pieces == [
        "Compute ", "2", "+", "3", ".", " (Reference answer: ", "5", ")", " ", "\\boxed{", "5", "}"
    ]  # fmt: skip
    assert tok.unk_token_id in _ids(tok, "é")


def test_chat_template_and_special_ids(tok):
    msgs = [{"role": "user", "content": "Compute 2+3."}]
    text = tok.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
    assert text == "<bos>Compute 2+3.<sep>"
    ids = _ids(tok, text)
    assert ids[0] == tok.bos_token_id and ids[-1] == tok.convert_tokens_to_ids("<sep>")
    assert len(ids) == 7  # <bos> "Compute " 2 + 3 . <sep>
    assert _ids(tok, "Compute 2+3.") == _ids(tok, text)[1:-1]
    assert tok.apply_chat_template(msgs, tokenize=False) == "<bos>Compute 2+3."
    for special in SPECIAL_TOKENS:
        assert len(_ids(tok, special)) == 1
    assert (tok.pad_token, tok.bos_token, tok.eos_token) == ("<pad>", "<bos>", "<eos>")
    assert tok.padding_side == "left"
    assert tok.decode(_ids(tok, text), skip_special_tokens=True) == "Compute 2+3."


def test_save_load(tok, tmp_path):
    from transformers import AutoTokenizer

    tok.save_pretrained(tmp_path)
    loaded = AutoTokenizer.from_pretrained(tmp_path)
    text = tok.apply_chat_template(
        [{"role": "user", "content": "Compute 9*9."}], add_generation_prompt=True, tokenize=False
    )
    assert (
        loaded.apply_chat_template(
            [{"role": "user", "content": "Compute 9*9."}],
            add_generation_prompt=True,
            tokenize=False,
        )
        == text
    )
    assert _ids(loaded, text) == _ids(tok, text)
    assert loaded.padding_side == "left"
