"""Example creditzoo plugin: one algorithm, ``clipped_grpo``, added through the entry point.

creditzoo imports ``creditzoo_plugin_example.clipped_grpo`` (declared under the
``creditzoo.algorithms`` entry-point group in pyproject.toml); importing it runs
``@register("clipped_grpo")``. Nothing here needs importing by hand.
"""
