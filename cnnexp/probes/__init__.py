"""Probes: instant measurements of a layer stack, with no training, computed where they are
shown and never stored. Not experiments (they plan no runs and are not registered in
cnnexp/experiments/); each is the first tab of an experiment's page and a subcommand of the
CLI.

    shift.py         the shift probe (Equivariance page, `python -m cnnexp probe shift`):
                     settings, tidy tables, charts and explanation
    shift_errors.py  its mathematics: equivariance and invariance errors of a stack under shifts
    field.py         the field probe (Receptive field page, `python -m cnnexp probe field`):
                     theoretical and effective field of a stack, the depth sweep, its cost

What one probe may compute on a server is capped by cnnexp/policy.py (`probe_gflop`,
`probe_mb`); the receptive-field arithmetic both probes count with is cnnexp/fields.py.
"""
