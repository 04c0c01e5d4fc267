"""`creditzoo audit`: does a method's per-token credit land on the step that was wrong?

One batch is sampled once from the policy (the shipped model or a run's checkpoint), every
algorithm credits that identical batch, and the credit is scored against the first wrong step
that the task's step checker locates (research/credit-audit.md). See ``creditzoo.audit.cli``.
"""
