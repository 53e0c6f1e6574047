"""The self-check (政策计算器): questions, answers to facts and verdicts, registration from the answers.

evaluation.py is the core (no pages: the wizard and the REST API both call it); questions.py the
wizard's steps; registration.py an account and a profile from the answers; views.py and urls.py the
pages under /self-check/. Answers become profile rows through enterprises/answers.py, beside the fact
derivation it inverts.
"""
