"""Print how long the offline evaluation of each stack takes."""

from __future__ import annotations

import time

from infra.offline import evaluate, stack_files


def main() -> None:
    print(f"{'stack':<16}{'seconds':>10}{'resources':>11}")
    for stack in stack_files():
        started = time.perf_counter()
        evaluation = evaluate(stack)
        seconds = time.perf_counter() - started
        print(f"{stack:<16}{seconds:>10.2f}{len(evaluation.custom_resources):>11}")
    print(
        "(the first stack includes building and proving the Lambda packages; later stacks "
        "reuse them within the process)"
    )


if __name__ == "__main__":
    main()
