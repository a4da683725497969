"""The patient's assessment on the web: the adaptive flow, results, education pages, storage."""
