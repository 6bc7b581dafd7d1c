%matplotlib inline
import numpy as np
import lesson_tools as lt
