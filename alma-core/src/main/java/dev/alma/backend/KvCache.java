package dev.alma.backend;

/**
 * Keys and values of past positions for several sequences, in pages shared copy-on-write between sequences
 * that were {@linkplain #fork forked} from one another (beam search shares the prompt and every common prefix).
 * Sequences are small integer handles. Not thread-safe: one decoding loop owns a cache.
 */
public interface KvCache extends AutoCloseable {

    /** A new empty sequence. */
    int create();

    /** A new sequence that shares every position of {@code seq} (no copy until one of them writes). */
    int fork(int seq);

    /** Releases {@code seq}; pages no other sequence shares are recycled. */
    void free(int seq);

    /** Positions stored for {@code seq}. */
    int length(int seq);

    /** Drops positions {@code length..} of {@code seq}. */
    void truncate(int seq, int length);

    /** Positions the cache can hold over all sequences. */
    int capacity();

    /** Positions per page. */
    int pageSize();

    /** Pages no sequence uses. */
    int freePages();

    /**
     * Pages writing position {@code pos} of {@code seq} would take: 1 when it starts a new page or the page is shared
     * (copied first), else 0.
     */
    int pagesToWrite(int seq, int pos);

    @Override
    void close();
}
