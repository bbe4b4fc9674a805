"""CDKTF constructs: one concern per file, each with a frozen config dataclass beside it.

Constructs never create providers; the caller passes one in.
"""
