// qa_model.cpp - examples/qa_model.c in C++: the notebook's two-input model, inputs and
// outputs by name, trained on a task it can learn (the answer is the text's last word).
#include <random>

#include "example.hpp"

int main(int argc, char **argv) {
  const bool quick = quick_run(argc, argv);
  enum { VOCAB = 50 };
  loom_graph *g = ok(loom_graph_new(7), "loom_graph_new");
  loom_node *text_input = loom_Input(g, .shape = {LOOM_NONE}, .dtype = LOOM_I32, .name = "text");
  loom_node *encoded_text = loom_call(loom_LSTM(g, .units = 32),
                                      loom_call(loom_Embedding(g, .input_dim = VOCAB, .output_dim = 64), text_input));
  loom_node *question_input = loom_Input(g, .shape = {LOOM_NONE}, .dtype = LOOM_I32, .name = "question");
  loom_node *encoded_question = loom_call(
      loom_LSTM(g, .units = 16), loom_call(loom_Embedding(g, .input_dim = VOCAB, .output_dim = 32), question_input));
  loom_node *concatenated = loom_call_list(loom_Concatenate(g, .axis = -1), encoded_text, encoded_question);
  loom_node *answer = loom_call(loom_Dense(g, .units = VOCAB, .activation = LOOM_SOFTMAX, .name = "answer"), concatenated);
  loom_model *model = ok(loom_Model(g, .inputs = {text_input, question_input}, .outputs = {answer}), "Model");
  loom_model_summary(model, stdout);
  ok(loom_compile(model, .optimizer = {.kind = LOOM_ADAM, .learning_rate = 0.01f},
                  .loss = "sparse_categorical_crossentropy", .metrics = {"acc"}),
     "compile");

  loom_arena *a = ok(loom_arena_new(nullptr), "loom_arena_new");
  const int64_t n = quick ? 512 : 2000, steps = 8, s2[2] = {n, steps}, s1[1] = {n};
  loom_tensor *text = ok(loom_tensor_new(a, LOOM_I32, 2, s2), "tensor");
  loom_tensor *question = ok(loom_tensor_new(a, LOOM_I32, 2, s2), "tensor");
  loom_tensor *last = ok(loom_tensor_new(a, LOOM_I32, 1, s1), "tensor");
  std::mt19937 r(3);
  for (int64_t i = 0; i < n * steps; ++i) {
    loom_tensor_i32(text)[i] = 1 + (int32_t)(r() % (VOCAB - 1));
    loom_tensor_i32(question)[i] = 1 + (int32_t)(r() % (VOCAB - 1));
  }
  for (int64_t i = 0; i < n; ++i) loom_tensor_i32(last)[i] = loom_tensor_i32(text)[i * steps + steps - 1];
  // the dict form: model.fit({'text': text, 'question': question}, {'answer': last})
  const loom_history *h = ok(loom_fit(model, .x_by_name = {{"text", text}, {"question", question}},
                                      .y_by_name = {{"answer", last}}, .epochs = quick ? 25 : 40,
                                      .batch_size = 64, .verbose = LOOM_EPOCH_LINES),
                             "fit");
  const float *acc = loom_history_get(h, "acc");
  const float final_acc = acc[loom_history_epochs(h) - 1];
  std::printf("accuracy on the learnable task: %.3f (chance %.3f)\n", final_acc, 1.0 / (VOCAB - 1));
  loom_arena_free(a);
  loom_graph_free(g);
  return final_acc > 0.5f ? 0 : 1; // learnt, not guessed
}
