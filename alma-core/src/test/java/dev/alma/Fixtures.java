package dev.alma;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates the shared reference fixtures: {@code $ALMA_SHARED}, else the build's default ({@code ../shared} beside
 * the project). A test that needs a file that is absent fails with a message naming it; it never passes silently.
 */
public final class Fixtures {
    private Fixtures() {
    }

    /** The shared folder. */
    public static Path shared() {
        String env = System.getenv("ALMA_SHARED");
        if (env == null || env.isBlank()) env = System.getenv("ALMA_SHARED_DEFAULT");
        if (env == null || env.isBlank()) env = "../shared";
        return Path.of(env).toAbsolutePath().normalize();
    }

    /** A path under the shared folder that must exist. */
    public static Path path(String relative) {
        Path p = shared().resolve(relative);
        if (!Files.exists(p))
            throw new AssertionError("fixture missing: " + p + " (set ALMA_SHARED to the shared folder)");
        return p;
    }

    /** A path under {@code shared/fixtures}. */
    public static Path fixture(String relative) {
        return path("fixtures/" + relative);
    }
}
