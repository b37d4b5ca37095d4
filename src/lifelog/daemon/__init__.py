"""Running the recorder: capture in a child process, the pipeline in this one."""
