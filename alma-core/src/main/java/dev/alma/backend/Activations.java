package dev.alma.backend;

/** A backend-owned float matrix {@code [rows, cols]} of activations (rows is the capacity). */
public interface Activations {
    int rows();

    int cols();
}
