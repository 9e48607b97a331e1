"""The bare reference app of bench_serving: FastAPI + ``lightgbm.Booster.predict``, no uniml."""

import json
import os

import lightgbm as lgb
import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import Response

booster = lgb.Booster(model_file=os.environ["BENCH_MODEL_TXT"])
app = FastAPI()


@app.post("/invocations")
async def invocations(request: Request):
    payload = json.loads(await request.body())
    data = np.asarray(payload["dataframe_split"]["data"], dtype=np.float64)
    pred = booster.predict(data, num_threads=1)
    return Response(json.dumps({"predictions": pred.tolist()}), media_type="application/json")


@app.get("/ping")
async def ping():
    return Response(status_code=200)
