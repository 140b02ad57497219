"""`flask portal classifier-report`: accuracy of the department suggestion."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from portal.core.cli import portal_cli


def majority_share(samples: list[tuple[str, str]]) -> float:
    from collections import Counter

    if not samples:
        return 0.0
    return Counter(label for _text, label in samples).most_common(1)[0][1] / len(samples)


@portal_cli.command("classifier-report")
@click.option("--corpus", is_flag=True, help="Use the built-in demo corpus, not the database.")
@with_appcontext
def classifier_report(corpus: bool) -> None:
    """Train on past items, test on every fourth one held out, print the accuracy."""
    from portal.feedback.classifier import leave_one_out, split_held_out

    if corpus:
        from portal.feedback.demo import demo_corpus

        samples = demo_corpus()
    else:
        from portal.feedback.queries import training_samples

        samples = training_samples()
    from portal.feedback.classifier import NaiveBayes, accuracy

    train, test = split_held_out(samples)
    score = accuracy(NaiveBayes().fit(train), test)
    click.echo(
        f"trained on {len(train)} items, tested on {len(test)} held out: accuracy {score:.1%}"
    )
    click.echo(f"leave-one-out over {len(samples)} items: accuracy {leave_one_out(samples):.1%}")
    click.echo(f"always guessing the largest department: {majority_share(samples):.1%}")
