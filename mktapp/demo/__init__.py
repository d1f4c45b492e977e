"""The demo company (示例科技有限公司), one module per chapter, seeded in order by
`flask seed-demo` (mktapp/cli.py seed_demo_data, anchored to the day it is given).

Each module's seed(ctx) goes through the chapters' public services and the approval
engine (a status moves only in its transition: opportunities through
sales.pipeline.move_stage, payments through expense.claims.record_payment), then moves
the times back (a year of work happens in one run).
"""
