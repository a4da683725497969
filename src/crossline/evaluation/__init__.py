"""The structured evaluation (the telehealth visit record), the decision, and the patient letter.

`rules` and `interactions` are pure (no Django): the approval requirements and the medication
re-check on the reconciled list. `models` stores the evaluation encrypted, with only
non-identifying columns in plain; `views` are the staff form and the patient's letter.
"""
