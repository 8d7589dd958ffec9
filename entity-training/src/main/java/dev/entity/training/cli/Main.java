package dev.entity.training.cli;

/** The {@code entity-train} command line; placeholder until the CLI lands. */
public final class Main {

  private Main() {}

  public static void main(String[] args) {
    System.out.println("entity-train: the CLI is being built");
  }
}
