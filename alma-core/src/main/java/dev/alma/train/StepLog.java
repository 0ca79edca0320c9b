package dev.alma.train;

/**
 * One optimiser step of a run: its number (1-based), learning rate, token-mean training loss, gradient norm
 * before clipping, tokens processed, wall time, and the validation loss when it was evaluated after this step
 * ({@code NaN} otherwise).
 */
public record StepLog(long step, double lr, double loss, double gradNorm, long tokens, double seconds, double evalLoss) {
    /** Training throughput of this step. */
    public double tokensPerSecond() {
        return seconds > 0 ? tokens / seconds : 0;
    }

    StepLog withEval(double v) {
        return new StepLog(step, lr, loss, gradNorm, tokens, seconds, v);
    }
}
