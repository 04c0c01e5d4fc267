"""Example creditzoo plugin: two algorithms and a task added through entry points.

``clipped_grpo`` (a new credit rule) and ``hinted_rlsd`` (RLSD with a privileged context of its
own, ``final_step``, registered beside it). creditzoo imports each module declared under the
``creditzoo.algorithms`` entry-point group in pyproject.toml, and ``doubles`` (a task) under
``creditzoo.tasks``; importing a module runs its ``@register`` (``@CONTEXTS.register``,
``register_task``). Nothing here needs importing by hand.
"""
