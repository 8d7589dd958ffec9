/**
 * Assembling and running pipelines. From YAML:
 *
 * <pre>{@code
 * Workflow workflow = WorkflowYaml.read(Path.of("train.yaml"), PluginRegistry.discover(), System::getenv)
 *     .runFolder(Path.of("runs/today"))          // optional; default runs/<run id>
 *     .override("training_config", Map.of("lora_r", 8))  // key=value flags
 *     .build();                                   // every problem reported at once
 * WorkflowResult result = new WorkflowExecutor(workflow).run("");
 * }</pre>
 *
 * or in code:
 *
 * <pre>{@code
 * Workflow workflow = Workflow.builder("quickstart", PluginRegistry.discover())
 *     .add(Stage.INPUT, "dataset_loader", Map.of("dataset_path", "data/sample.jsonl"))
 *     .add(Stage.OUTPUT, "greet", Map.of("name", "you"))
 *     .memoryFile(Path.of("runs/memory.duckdb"))
 *     .build();
 * switch (new WorkflowExecutor(workflow).run("", cancellation)) {
 *   case WorkflowResult.Completed done -> ...;
 *   case WorkflowResult.Failed failed -> System.err.println(failed.summary());
 *   case WorkflowResult.Cancelled cancelled -> System.err.println(cancelled.summary());
 * }
 * }</pre>
 */
package dev.entity.core.workflow;
