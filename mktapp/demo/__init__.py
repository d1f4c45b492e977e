"""The demo company (示例科技有限公司), one module per chapter, seeded in order by
`flask seed-demo` (mktapp/cli.py seed_demo_data, anchored to the day it is given).

Each module's seed(ctx) goes through the chapters' public services and the approval
engine where they exist, then moves the times back (a year of work happens in one run).
Not yet everywhere: claims.py marks paid claims by hand (claims.record_payment would
also notify, and the payment day is known only once the plan's times are laid out),
and pipeline.py builds opportunities with their history and sets the customer's status
(pipeline.move_stage is the transition to use).
"""
