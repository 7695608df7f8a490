#!/usr/bin/env python3
"""Writes FILES files of MIB_EACH MiB of deterministic English-like text
(a 20,000-word vocabulary with Zipf-like frequencies, capitalised words,
punctuation) for the word-frequency job benchmark.

Usage: gen-text.py DIR FILES MIB_EACH"""
import os
import random
import sys


def main():
    out, files, mib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    os.makedirs(out, exist_ok=True)
    rng = random.Random(42)
    letters = "etaoinshrdlcumwfgypbvkjxqz"
    vocab = set()
    while len(vocab) < 20000:
        n = rng.randint(2, 10)
        vocab.add("".join(rng.choice(letters[: rng.randint(6, 26)]) for _ in range(n)))
    vocab = sorted(vocab)
    weights = [1.0 / (i + 1) for i in range(len(vocab))]
    # A pool of lines drawn once; files are drawn from the pool, which keeps
    # the word frequencies and makes 1 GiB in seconds, not minutes.
    pool = []
    for _ in range(100000):
        words = rng.choices(vocab, weights, k=12)
        words[0] = words[0].capitalize()
        pool.append(" ".join(words) + ".\n")
    for f in range(files):
        path = os.path.join(out, "part-%03d.txt" % f)
        size = 0
        with open(path, "w") as fh:
            while size < mib << 20:
                text = "".join(rng.choices(pool, k=8192))
                fh.write(text)
                size += len(text)


if __name__ == "__main__":
    main()
