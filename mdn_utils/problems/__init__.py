"""The problems the book models: synthetic inverse problems with an exact conditional
density (``datasets``), the two-link robot arm (``robot_arm``) and real data shipped as CSV
files (``real``)."""
