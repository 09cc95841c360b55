"""Build a synthetic papercli library of N papers with realistic sizes, for benchmarks.

Each paper has a title of 6-14 words, 2-9 authors, a ~1,000-character abstract, 1-4 tags, an
arXiv id for most, and 0-3 notes (a few sentences each), like a real reading library. The files
are written with papercli's own serialiser, so they are exactly what papercli writes.

    python bench/make_library.py PATH --papers 10000 [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

from papercli.library import FORMAT_VERSION, dump_paper
from papercli.models import Note, Paper

WORDS = (
    "attention transformer language model scaling laws sparse mixture experts retrieval "
    "augmented generation instruction tuning reinforcement learning human feedback alignment "
    "efficient fine-tuning low-rank adaptation quantization distillation pruning diffusion "
    "contrastive representation vision multimodal reasoning chain thought prompting benchmark "
    "evaluation robustness adversarial memory long context positional encoding rotary flash "
    "kernel inference serving speculative decoding tokenizer vocabulary pretraining corpus data "
    "curriculum optimization adam learning rate schedule normalization layer residual network "
    "graph neural convolution recurrent sequence translation summarization question answering "
    "dialogue agent tool planning code synthesis mathematical theorem proving embedding search"
).split()
GIVEN = "Ashish Noam Niki Jakob Llion Aidan Lukasz Illia Edward Yelong Phillip Zeyuan Yuanzhi "
GIVEN += "Shean Lu Weizhu Jordan Sebastian Colin Adam Katherine Sharan Hugo Tim Wei Yi Ming Anna"
FAMILY = "Vaswani Shazeer Parmar Uszkoreit Jones Gomez Kaiser Polosukhin Hu Shen Wallis Allen-Zhu "
FAMILY += "Li Wang Chen Hoffmann Borgeaud Raffel Roberts Lee Narang Touvron Schick Dettmers Zhang "
FAMILY += "Liu Kim Nguyen Müller Kübler Łukasiewicz García"
TAGS = (
    "nlp llm transformers peft vision rl alignment efficiency retrieval evaluation multimodal "
    "reasoning agents code theory data optimization safety speech robotics"
).split()


def make_paper(rng: random.Random, i: int) -> Paper:
    title_words = rng.sample(WORDS, rng.randint(6, 14))
    title = " ".join(title_words).capitalize()
    given, family = GIVEN.split(), FAMILY.split()
    authors = [f"{rng.choice(family)}, {rng.choice(given)}" for _ in range(rng.randint(2, 9))]
    year = rng.randint(2012, 2026)
    abstract = " ".join(rng.choice(WORDS) for _ in range(rng.randint(120, 170))).capitalize() + "."
    paper = Paper(
        key=f"{authors[0].split(',')[0].lower().replace('ü', 'u').replace('ł', 'l')}"
        f"{year}{title_words[0].replace('-', '')}{i}",
        title=title,
        authors=authors,
        year=year,
        tags=rng.sample(TAGS, rng.randint(1, 4)),
        abstract=abstract,
        added=f"{rng.randint(2019, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        "T12:00:00Z",
        status=rng.choice(("unread", "unread", "reading", "read")),
    )
    paper.key = "".join(c for c in paper.key if c.isascii() and (c.isalnum() or c in "-_."))
    if rng.random() < 0.85:
        yymm = f"{year % 100:02d}{rng.randint(1, 12):02d}"
        paper.arxiv_id = (
            f"{yymm}.{rng.randint(0, 99999):05d}" if year >= 2015 else f"{yymm}.{i % 10000:04d}"
        )
        paper.url = f"https://arxiv.org/abs/{paper.arxiv_id}"
        paper.date = f"{year}-{yymm[2:]}-01"
    for n in range(rng.choice((0, 0, 1, 1, 2, 3))):
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 80)))
        paper.notes.append(Note(text=text.capitalize() + ".", created=paper.added, page=str(n + 1)))
    return paper


def build(path: Path, count: int, seed: int = 1) -> None:
    papers_dir = path / "papers"
    papers_dir.mkdir(parents=True, exist_ok=True)
    (path / "library.toml").write_text(f'format = {FORMAT_VERSION}\nname = "synthetic"\n')
    rng = random.Random(seed)
    for i in range(count):
        paper = make_paper(rng, i)
        (papers_dir / f"{paper.key}.toml").write_bytes(dump_paper(paper))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="where to create the library (must not exist)")
    parser.add_argument("--papers", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.path.exists():
        sys.exit(f"{args.path} exists: choose a new directory")
    build(args.path, args.papers, args.seed)
    print(f"built {args.papers} papers in {args.path}")


if __name__ == "__main__":
    main()
