"""A throwaway engine that keeps its store in this process's memory: what adding an engine takes."""
