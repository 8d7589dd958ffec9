package dev.entity.training.eval;

/**
 * ROUGE-1, ROUGE-2 and ROUGE-L for one prediction, as rouge-score's {@code RougeScorer(['rouge1',
 * 'rouge2', 'rougeL'])} returns them.
 */
public record RougeScores(RougeScore rouge1, RougeScore rouge2, RougeScore rougeL) {}
