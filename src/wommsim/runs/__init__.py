"""Running the model and keeping its results: the runner (arms x replicates), worker
processes, the result-folder protocol, run folders and their locks, faults (signals, write
errors, lost workers) and the memory estimate."""
