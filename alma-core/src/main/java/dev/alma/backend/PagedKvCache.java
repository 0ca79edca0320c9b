package dev.alma.backend;

import dev.alma.AlmaException;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The bookkeeping of a paged key/value cache, independent of where the pages live: each sequence has a table of
 * page ids, pages are reference-counted, {@link #fork} copies a table, and {@link #pageForWrite} copies a shared
 * page before the first write to it (copy-on-write). Subclasses store the pages and implement {@link #copyPage}.
 */
public abstract class PagedKvCache implements KvCache {
    /** Positions per page. */
    protected final int pageSize;
    private final int maxPages;
    private final int[] refs;
    private final ArrayDeque<Integer> freePages = new ArrayDeque<>();
    private int nextPage;
    private final List<int[]> tables = new ArrayList<>();
    private final List<Integer> lengths = new ArrayList<>();
    private final ArrayDeque<Integer> freeSeqs = new ArrayDeque<>();

    protected PagedKvCache(int pageSize, int maxTokens) {
        if (pageSize <= 0 || maxTokens <= 0) throw new IllegalArgumentException("page size and capacity must be positive");
        this.pageSize = pageSize;
        this.maxPages = (maxTokens + pageSize - 1) / pageSize;
        this.refs = new int[maxPages];
    }

    /** Copies every layer's keys and values of page {@code src} to page {@code dst}. */
    protected abstract void copyPage(int src, int dst);

    /** Called when page {@code page} is used for the first time, to allocate its storage. */
    protected void ensurePage(int page) {
    }

    @Override
    public int capacity() {
        return maxPages * pageSize;
    }

    @Override
    public int pageSize() {
        return pageSize;
    }

    @Override
    public int freePages() {
        return maxPages - pagesInUse();
    }

    @Override
    public int pagesToWrite(int seq, int pos) {
        int[] table = table(seq);
        int index = pos / pageSize;
        return index >= table.length || refs[table[index]] > 1 ? 1 : 0;
    }

    /** Number of pages the cache may use. */
    public int maxPages() {
        return maxPages;
    }

    @Override
    public int create() {
        int seq;
        if (!freeSeqs.isEmpty()) {
            seq = freeSeqs.pop();
            tables.set(seq, new int[0]);
            lengths.set(seq, 0);
        } else {
            seq = tables.size();
            tables.add(new int[0]);
            lengths.add(0);
        }
        return seq;
    }

    @Override
    public int fork(int seq) {
        int[] table = table(seq);
        int child = create();
        tables.set(child, table.clone());
        lengths.set(child, lengths.get(seq));
        for (int p : table) refs[p]++;
        return child;
    }

    @Override
    public void free(int seq) {
        int[] table = table(seq);
        for (int p : table) release(p);
        tables.set(seq, null);
        lengths.set(seq, 0);
        freeSeqs.push(seq);
    }

    @Override
    public int length(int seq) {
        table(seq);
        return lengths.get(seq);
    }

    @Override
    public void truncate(int seq, int length) {
        int[] table = table(seq);
        if (length < 0 || length > lengths.get(seq))
            throw new IllegalArgumentException("truncate to " + length + " of a sequence of " + lengths.get(seq));
        int keep = (length + pageSize - 1) / pageSize;
        for (int i = keep; i < table.length; i++) release(table[i]);
        tables.set(seq, Arrays.copyOf(table, keep));
        lengths.set(seq, length);
    }

    /** Page holding position {@code pos} of {@code seq} (which must be stored). */
    public int pageForRead(int seq, int pos) {
        return table(seq)[pos / pageSize];
    }

    /** The page table of {@code seq} (read-only view for kernels; do not modify). */
    public int[] pages(int seq) {
        return table(seq);
    }

    /**
     * Page to which position {@code pos} of {@code seq} is written: allocated when new, copied first when shared.
     * Positions are written in order: {@code pos} is at most the sequence's length, and the length becomes
     * {@code max(length, pos + 1)}.
     */
    public int pageForWrite(int seq, int pos) {
        int[] table = table(seq);
        int len = lengths.get(seq);
        if (pos < 0 || pos > len) throw new IllegalArgumentException("position " + pos + " written to a sequence of length " + len);
        int index = pos / pageSize;
        if (index == table.length) {
            table = Arrays.copyOf(table, index + 1);
            table[index] = allocate();
            tables.set(seq, table);
        } else if (refs[table[index]] > 1) {
            int copy = allocate();
            copyPage(table[index], copy);
            refs[table[index]]--;
            table[index] = copy;
        }
        lengths.set(seq, Math.max(len, pos + 1));
        return table[index];
    }

    private int allocate() {
        int p;
        if (!freePages.isEmpty()) p = freePages.pop();
        else if (nextPage < maxPages) p = nextPage++;
        else throw new AlmaException("KV cache full: " + capacity() + " positions in use; use a larger context or fewer beams");
        ensurePage(p);
        refs[p] = 1;
        return p;
    }

    private void release(int p) {
        if (--refs[p] == 0) freePages.push(p);
    }

    private int[] table(int seq) {
        if (seq < 0 || seq >= tables.size() || tables.get(seq) == null)
            throw new IllegalArgumentException("no sequence " + seq + " in this KV cache");
        return tables.get(seq);
    }

    /** Pages currently referenced (for tests and memory reports). */
    public int pagesInUse() {
        return nextPage - freePages.size();
    }
}
