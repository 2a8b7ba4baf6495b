"""The faust app (agent, timer) and its web view."""
