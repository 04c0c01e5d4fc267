"""Tasks (problems with reference answers), prompt rendering and the training datamodule."""
