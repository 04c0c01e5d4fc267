"""Example creditzoo plugin: two algorithms added through the entry point.

``clipped_grpo`` (a new credit rule) and ``hinted_rlsd`` (RLSD with a privileged context of its
own, ``final_step``, registered beside it). creditzoo imports each module declared under the
``creditzoo.algorithms`` entry-point group in pyproject.toml; importing it runs ``@register``
(and ``@CONTEXTS.register``). Nothing here needs importing by hand.
"""
