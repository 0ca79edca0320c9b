package dev.alma.backend;

/** A weight prepared by a {@link Backend}: a matrix {@code [rows, cols]} or a vector ({@code rows == 1}). */
public interface Weight {
    int rows();

    int cols();
}
