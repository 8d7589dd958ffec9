/** JMH kernel benchmarks and end-to-end benchmarks of the engine and the trainer. */
package dev.entity.bench;
