"""What the study reports: the catalogue of tables (``catalogue``), Table 1 and Table 6 (``tables``),
Tables 2-5 with significance (``study_tables``), Figures 5-9 (``figures``), the paper's claims as data
(``claims``), verdicts (``verdicts``) and ``results/REPORT.md`` (``page``)."""
