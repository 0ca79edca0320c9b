package dev.alma.cuda;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * GPU time per kernel of launches made one by one (graphs off): a CUDA event is recorded on the stream before and
 * after each launch, and {@link #totals()} reads the pairs once the device has run them. The events add a little
 * time between launches, none inside them. For benchmarks ({@link KernelBench}); not thread-safe.
 */
final class LaunchProfile implements AutoCloseable {
    /** Per kernel name: launches and their summed GPU milliseconds. */
    record Total(String kernel, int launches, double ms) {
    }

    private final long stream;
    private final List<long[]> events = new ArrayList<>();  // {start, end} pairs, reused
    private final List<String> names = new ArrayList<>();

    LaunchProfile(long stream) {
        this.stream = stream;
    }

    /** Called just before a launch. */
    void before() {
        int i = names.size();
        if (i == events.size()) {
            long[] s = new long[1], e = new long[1];
            CudaRuntime.check(AlmaCuda.alma_event_create(s), "cudaEventCreate");
            CudaRuntime.check(AlmaCuda.alma_event_create(e), "cudaEventCreate");
            events.add(new long[]{s[0], e[0]});
        }
        CudaRuntime.check(AlmaCuda.alma_event_record(events.get(i)[0], stream), "cudaEventRecord");
    }

    /** Called just after the launch of {@code kernel}. */
    void after(String kernel) {
        CudaRuntime.check(AlmaCuda.alma_event_record(events.get(names.size())[1], stream), "cudaEventRecord");
        names.add(kernel);
    }

    /** The launches since the last call, summed per kernel name in order of first launch; waits for the device. */
    List<Total> totals() {
        Map<String, double[]> sums = new LinkedHashMap<>();
        float[] ms = new float[1];
        for (int i = 0; i < names.size(); i++) {
            long[] pair = events.get(i);
            CudaRuntime.check(AlmaCuda.alma_event_elapsed(pair[0], pair[1], ms), "cudaEventElapsedTime");
            double[] s = sums.computeIfAbsent(names.get(i), k -> new double[2]);
            s[0]++;
            s[1] += ms[0];
        }
        names.clear();
        List<Total> out = new ArrayList<>();
        sums.forEach((k, v) -> out.add(new Total(k, (int) v[0], v[1])));
        return out;
    }

    @Override
    public void close() {
        for (long[] pair : events) {
            AlmaCuda.alma_event_destroy(pair[0]);
            AlmaCuda.alma_event_destroy(pair[1]);
        }
        events.clear();
        names.clear();
    }
}
