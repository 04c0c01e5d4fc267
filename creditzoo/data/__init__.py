"""Problems, the built-in arithmetic generator, prompt rendering and the training datamodule
(the tasks built on them live in ``creditzoo.tasks``)."""
