package dev.alma.tensor;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SegmentsTest {
    /** Every size from 0 to 200 bytes, at odd offsets, between native memory and arrays of three element types. */
    @Test
    void copiesEverySizeBetweenNativeMemoryAndArrays() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment nat = arena.allocate(512, 16);
            for (int i = 0; i < 512; i++) nat.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 7 + 1));
            for (int bytes = 0; bytes <= 200; bytes++)
                for (int off : new int[]{0, 4, 12}) {
                    float[] floats = new float[(off + bytes + 3) / 4 + 1];
                    MemorySegment f = MemorySegment.ofArray(floats);
                    Segments.copy(nat, 3, f, off, bytes);
                    for (int i = 0; i < f.byteSize(); i++) {
                        byte want = i >= off && i < off + bytes ? (byte) ((i - off + 3) * 7 + 1) : 0;
                        assertEquals(want, f.get(ValueLayout.JAVA_BYTE, i), bytes + " bytes at " + off + ", byte " + i);
                    }
                    byte[] back = new byte[bytes];
                    MemorySegment n2 = arena.allocate(Math.max(1, bytes + 8), 16);
                    Segments.copy(f, off, n2, 8, bytes);
                    Segments.copy(n2.asSlice(8, bytes), MemorySegment.ofArray(back));
                    byte[] want = new byte[bytes];
                    for (int i = 0; i < bytes; i++) want[i] = (byte) ((i + 3) * 7 + 1);
                    assertArrayEquals(want, back, bytes + " bytes at " + off + " and back");
                    int[] ints = new int[bytes / 4];
                    Segments.copy(nat, off, MemorySegment.ofArray(ints), 0, 4L * ints.length);
                    for (int i = 0; i < ints.length; i++)
                        assertEquals(nat.get(ValueLayout.JAVA_INT_UNALIGNED, off + 4L * i), ints[i], bytes + " bytes into int[]");
                }
        }
    }

    /**
     * The project's main code copies between segments only through {@link Segments}: no {@code copyFrom} and no
     * five-argument {@code MemorySegment.copy} (see {@link Segments} for the JIT failure they hit).
     */
    @Test
    void mainCodeUsesNoSmallCopyLoop() throws IOException {
        Path root = Path.of("").toAbsolutePath().getParent();
        List<Path> dirs = new ArrayList<>();
        for (String module : new String[]{"alma-core", "alma-native", "alma-bench"}) {
            Path d = root.resolve(module).resolve("src/main/java");
            if (Files.isDirectory(d)) dirs.add(d);
        }
        assertTrue(dirs.contains(root.resolve("alma-core/src/main/java")), "sources not found under " + root);
        List<String> found = new ArrayList<>();
        for (Path d : dirs)
            try (Stream<Path> files = Files.walk(d)) {
                files.filter(p -> p.toString().endsWith(".java")).forEach(p -> found.addAll(smallCopyCalls(p)));
            }
        assertEquals(List.of(), found);
    }

    @Test
    void theSourceCheckFindsBothForms() {
        assertEquals(List.of("x:1 copyFrom", "x:2 MemorySegment.copy with 5 arguments"), smallCopyCalls("x",
                "a.asSlice(0, 4).copyFrom(b);\nMemorySegment.copy(s, f(1, 2), d, 0, n);\n"
                        + "MemorySegment.copy(s, ValueLayout.JAVA_BYTE, 0, d, ValueLayout.JAVA_BYTE, 0, n);\n"
                        + "// dst.copyFrom(src) in a comment\n * {@link MemorySegment#copyFrom}\n"));
    }

    private static List<String> smallCopyCalls(Path file) {
        try {
            return smallCopyCalls(file.toString(), Files.readString(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Calls of copyFrom and of MemorySegment.copy with five top-level arguments, outside comments. */
    static List<String> smallCopyCalls(String name, String source) {
        List<String> out = new ArrayList<>();
        String[] lines = source.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.startsWith("//") || line.startsWith("*") || line.startsWith("/*")) continue;
            if (line.contains(".copyFrom(")) out.add(name + ":" + (i + 1) + " copyFrom");
            int at = line.indexOf("MemorySegment.copy(");
            if (at >= 0) {
                // the call may span lines: count its top-level arguments from here on
                String rest = String.join("\n", java.util.Arrays.copyOfRange(lines, i, Math.min(lines.length, i + 6)));
                int start = rest.indexOf("MemorySegment.copy(") + "MemorySegment.copy(".length();
                int depth = 1, args = 1;
                for (int k = start; k < rest.length() && depth > 0; k++) {
                    char c = rest.charAt(k);
                    if (c == '(') depth++;
                    else if (c == ')') depth--;
                    else if (c == ',' && depth == 1) args++;
                }
                if (args == 5) out.add(name + ":" + (i + 1) + " MemorySegment.copy with 5 arguments");
            }
        }
        return out;
    }
}
