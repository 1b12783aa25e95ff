"""Tools around the box: benchmarks, the scenario runner and its boards, the DSP command."""
