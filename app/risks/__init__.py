"""Risk review: a versioned taxonomy of clauses/red flags, detection in one document
(learned sentence classifier + cue patterns, no LLM needed), extracted values, exports."""
