/* qa_model.c - the notebook's two-input question-answering model.
 *
 * Keras:
 *   text_input = Input(shape=(None,), dtype='int32', name='text')
 *   embedded_text = layers.Embedding(text_vocabulary_size, 64)(text_input)
 *   encoded_text = layers.LSTM(32)(embedded_text)
 *   question_input = Input(shape=(None,), dtype='int32', name='question')
 *   embedded_question = layers.Embedding(question_vocabulary_size, 32)(question_input)
 *   encoded_question = layers.LSTM(16)(embedded_question)
 *   concatenated = layers.concatenate([encoded_text, encoded_question], axis=-1)
 *   answer = layers.Dense(answer_vocabulary_size, activation='softmax')(concatenated)
 *   model = Model([text_input, question_input], answer)
 *   model.compile(optimizer='rmsprop', loss='categorical_crossentropy', metrics=['acc'])
 *   model.fit([text, question], answers, epochs=10, batch_size=128)
 *
 * Then the same model on a task it can learn: the answer is the last word of the text. */
#include <math.h>

#include "example.h"

enum { TEXT_VOCAB = 10000, QUESTION_VOCAB = 10000, ANSWER_VOCAB = 500 };

loom_model *build_qa_model(loom_graph *g) {
  loom_node *text_input = loom_Input(g, .shape = {LOOM_NONE}, .dtype = LOOM_I32, .name = "text");
  loom_node *embedded_text =
      loom_call(loom_Embedding(g, .input_dim = TEXT_VOCAB, .output_dim = 64), text_input);
  loom_node *encoded_text = loom_call(loom_LSTM(g, .units = 32), embedded_text);

  loom_node *question_input =
      loom_Input(g, .shape = {LOOM_NONE}, .dtype = LOOM_I32, .name = "question");
  loom_node *embedded_question =
      loom_call(loom_Embedding(g, .input_dim = QUESTION_VOCAB, .output_dim = 32), question_input);
  loom_node *encoded_question = loom_call(loom_LSTM(g, .units = 16), embedded_question);

  loom_node *concatenated =
      loom_call_list(loom_Concatenate(g, .axis = -1), encoded_text, encoded_question);
  loom_node *answer = loom_call(
      loom_Dense(g, .units = ANSWER_VOCAB, .activation = LOOM_SOFTMAX), concatenated);
  return loom_Model(g, .inputs = {text_input, question_input}, .outputs = {answer});
}

#ifndef LOOM_EXAMPLE_NO_MAIN
/* ids in [lo, hi) of shape [samples, steps] */
static loom_tensor *random_ids(loom_arena *a, ex_rng *r, int64_t samples, int64_t steps, int lo, int hi) {
  const int64_t shape[2] = {samples, steps};
  loom_tensor *t = ex_tensor(a, LOOM_I32, 2, shape);
  for (int64_t i = 0; i < t->size; ++i) loom_tensor_i32(t)[i] = ex_randint(r, lo, hi);
  return t;
}

int main(int argc, char **argv) {
  const bool quick = ex_quick(argc, argv);
  loom_graph *g = ex_ok(NULL, loom_graph_new(1), "loom_graph_new");
  loom_model *model = ex_ok(g, build_qa_model(g), "Model");
  loom_model_summary(model, stdout);
  ex_st(g, loom_compile(model, .optimizer = {LOOM_RMSPROP}, .loss = "categorical_crossentropy",
                        .metrics = {"acc"}),
        "compile");

  /* As the notebook: random text, questions and answers (nothing to learn). */
  loom_arena *data = ex_ok(NULL, loom_arena_create(), "loom_arena_new");
  ex_rng r = {7};
  const int64_t num_samples = quick ? 256 : 1000, max_length = quick ? 20 : 100;
  loom_tensor *text = random_ids(data, &r, num_samples, max_length, 1, TEXT_VOCAB);
  loom_tensor *question = random_ids(data, &r, num_samples, max_length, 1, QUESTION_VOCAB);
  loom_tensor *ids = random_ids(data, &r, num_samples, 1, 0, ANSWER_VOCAB);
  const int64_t n1[1] = {num_samples};
  ids->rank = 1, ids->shape[0] = n1[0]; /* [samples] */
  loom_tensor *answers = ex_ok(NULL, loom_to_categorical(data, ids, ANSWER_VOCAB), "to_categorical");
  printf("\nThe notebook's fit: random text, questions and answers, so there is nothing to learn.\n"
         "It shows the model runs: the loss starts near log(%d) = %.2f and the accuracy stays near\n"
         "chance (1/%d) or climbs only as the model memorises its %lld samples.\n",
         ANSWER_VOCAB, log((double)ANSWER_VOCAB), ANSWER_VOCAB, (long long)num_samples);
  ex_ok(g, loom_fit(model, .x = {text, question}, .y = {answers}, .epochs = quick ? 2 : 10,
                    .batch_size = 128),
        "fit");
  /* the dict form: model.fit({'text': text, 'question': question}, answers, ...) */
  ex_ok(g, loom_fit(model, .x_by_name = {{"text", text}, {"question", question}},
                    .y = {answers}, .epochs = 1, .batch_size = 128),
        "fit by name");

  /* A learnable task: the answer is the text's last word (words 1..49). */
  printf("\nA task it can learn: answer = the last word of the text\n");
  loom_tensor *ltext = random_ids(data, &r, num_samples, max_length, 1, 50);
  loom_tensor *lquestion = random_ids(data, &r, num_samples, max_length, 1, 50);
  for (int64_t i = 0; i < num_samples; ++i)
    loom_tensor_i32(ids)[i] = loom_tensor_i32(ltext)[i * max_length + max_length - 1];
  loom_tensor *lanswers = ex_ok(NULL, loom_to_categorical(data, ids, ANSWER_VOCAB), "to_categorical");
  ex_st(g, loom_compile(model, .optimizer = {LOOM_RMSPROP, .learning_rate = 0.01f},
                        .loss = "categorical_crossentropy", .metrics = {"acc"}),
        "compile");
  const loom_history *h = ex_ok(g, loom_fit(model, .x = {ltext, lquestion}, .y = {lanswers},
                                            .epochs = quick ? 8 : 20, .batch_size = 64,
                                            .verbose = LOOM_EPOCH_LINES),
                                "fit");
  ex_show(h, "loss");
  ex_show(h, "acc");
  loom_arena_free(data);
  loom_graph_free(g);
  return 0;
}
#endif
