"""Writes the known-bad submissions of subtle mistakes into submissions/examples/, each derived from a
reference solution by one change a student could make. Run from the repository root:

    python3 Tools/make_subtle_mistakes.py

Each file's meta says what the mistake is and why it is wrong; `expect_fail` lists the families that fail
at the public seed (the test suite checks it, and that the verdict does not change over 20 seeds).
"""
import copy
import json


def load(name):
    with open(f"submissions/reference/{name}.json") as f:
        return json.load(f)


def save(name, submission, mistake, expect_fail):
    out = {"exercise": submission["exercise"], "meta": {"mistake": mistake, "expect_fail": expect_fail}}
    out.update({k: v for k, v in submission.items() if k not in ("exercise", "meta")})
    with open(f"submissions/examples/{name}.json", "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


def crowded_default():
    s = load("current-token-nopos")
    for t in "ABCD":
        s["layers"][0]["heads"][0]["W_Q"][f"tok:{t}"]["q:any"] = 2.14
    save(
        "current-token-nopos-crowded-default", s,
        "The BOS default is too weak: every query scores BOS at 2.14 instead of 8. A non-A query then spreads "
        "e^0 = 1 on each earlier token against e^2.14 = 8.5 on BOS, so once ten A's precede it (only possible "
        "at the last slot) the A's outweigh BOS and B beats none: A A A A A A A A A A B predicts B. The random "
        "and crowded families rarely draw ten A's in a row; the stress sequences (every sequence over A and B) do.",
        ["domain"])


def pointer_self_only():
    s = load("pointer-arithmetic-sinusoidal")
    heads = s["layers"][0]["heads"]
    # Part (a) asks to attend to every position holding the current token; this head attends to itself only
    # (the positional self-attention of part (b)), which puts all its mass on a position of the set.
    heads[0] = copy.deepcopy({k: heads[1][k] for k in ("W_Q", "W_K")})
    save(
        "pointer-arithmetic-sinusoidal-same-content-self-only", s,
        "Part (a) with L0H0 attending to the query's own position (part (b)'s head) instead of to every position "
        "holding the current token. The query is in the set, so the mass on the set is about 1: it meets 'mass "
        "at least 0.8' but not the meaning; the spread requirement (every key at least half an equal share) fails "
        "as soon as the token occurred before.",
        ["a-same-content"])


def pointer_keys_read_tokens():
    s = load("pointer-arithmetic-sinusoidal")
    k = s["layers"][0]["heads"][1]["W_K"]
    # Part (b) must attend by position only; these keys also read the token (a small content term on c0).
    for t in "ABCD":
        k[f"tok:{t}"] = {"c0": 0.01}
    save(
        "pointer-arithmetic-sinusoidal-self-keys-read-tokens", s,
        "Part (b)'s L0H1 keys also read the token (tok:X adds 0.01 to the c0 key dim). The attention still lands "
        "on the query's own position, but the head no longer attends by position only: its QK circuit has "
        "non-zero key columns for tok:A..tok:D, which the b-positions-only check (both sides of QK) refuses.",
        ["abc-four-dims"])


def induction_scores(a, b):
    s = load("induction-pos")
    q = s["layers"][1]["heads"][0]["W_Q"]
    for t in "ABCDEF":
        q[f"tok:{t}"] = {f"m{t}": a, "any": b}
    return s


def induction_crowded_default():
    save(
        "induction-pos-crowded-default", induction_scores(3.3, 2.0),
        "The induction head's scores were scaled down to 3.3 for a match and 2.0 for the BOS default (the "
        "reference uses 16 and 8). Matches still win, but a query with no earlier copy keeps only e^2 = 7.4 on "
        "BOS against 1 for every other key: after ten A's, a B query puts 54% of its weight on keys that file A "
        "and predicts A instead of none (A A A A A A A A A A B). No family plants ten copies of one token.",
        ["domain"])


def induction_weak_query():
    save(
        "induction-pos-weak-query", induction_scores(3.0, 2.5),
        "The induction query is a little too weak: 3.0 for a match against 2.5 for BOS. With a single earlier "
        "copy and eight or more other keys, the follower's weight falls just under none's fixed 0.5, so the "
        "prediction is wrong by a small margin (about -0.03) at scattered places in long sequences.",
        ["random", "pair-then-repeat", "first-slot", "adjacent", "several-matches", "off-by-one", "distractors", "longest", "domain"])


def previous_token_last_slot():
    s = load("previous-token-pos")
    s["layers"][0]["heads"][0]["W_Q"]["pos:11"]["back11"] = 2.2
    save(
        "previous-token-pos-last-slot-weak", s,
        "A typo in the last slot only: pos:11's query weight is 2.2 instead of 12. Every other slot attends one "
        "step back; the last one gives its previous token e^2.2 = 9 against 1 for each of the other 11 keys, so "
        "when the previous token is the only A in the sequence, B gets 0.45 and loses to none "
        "(B B B B B B B B B A B).",
        ["last-pair", "longest", "domain"])


if __name__ == "__main__":
    crowded_default()
    pointer_self_only()
    pointer_keys_read_tokens()
    induction_crowded_default()
    induction_weak_query()
    previous_token_last_slot()
